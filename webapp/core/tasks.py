"""Enqueueing work for the workers by task name, after the transaction commits.

The web process never imports the task modules (they pull in torch and cv2); it only names them.
"""
from __future__ import annotations

from typing import Any

from django.db import transaction


def enqueue(task_name: str, *args: Any, priority: int | None = None, **kwargs: Any) -> None:
    """Send ``task_name`` with plain arguments once the current transaction has committed."""

    def _send() -> None:
        from webapp.config.celery import app

        options = {} if priority is None else {"priority": priority}
        app.send_task(task_name, args=list(args), kwargs=kwargs, **options)

    # robust: the write has committed; a broker that is down must not turn its answer into an error (the
    # client would retry a write that was done). Work that missed its task is found again by the workers'
    # sweeps (stale predictions, pending imports, training triggers).
    transaction.on_commit(_send, robust=True)
