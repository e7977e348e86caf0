"""Pure machine learning for Loupe's task kinds. Never imports Django, Celery, webapp or workers."""
