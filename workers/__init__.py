"""Celery tasks: the only place where the web application and the ML packages meet."""
