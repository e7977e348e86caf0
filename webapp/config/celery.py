"""The Celery app object. Task names carry their queue: ``loupe.<queue>.<name>``.

The web process only *sends* tasks by name (``send_task``) and never imports the task modules, which
live in ``workers/`` together with the ML code.
"""
import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.config.settings")

app = Celery("loupe")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("infer", "train", "cpu")]
app.conf.task_routes = {
    "loupe.infer.*": {"queue": "infer"},
    "loupe.train.*": {"queue": "train"},
    "loupe.cpu.*": {"queue": "cpu"},
}
# Task modules are imported by the worker process only (by name, so the web process stays light).
app.conf.include = ["workers.tasks"]
