"""Django project configuration: settings per concern, ASGI application, Celery app object."""
