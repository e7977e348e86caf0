"""Live events to browsers over the channel layer, always sent after the transaction commits.

Groups: ``project-<id>`` (leases, revisions, reviews, predictions, queue depth of one project),
``overview`` (queue depths of all projects), ``mlops`` (training progress, new versions, promotions).
"""
from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)


def project_group(project_id: int) -> str:
    return f"project-{project_id}"


OVERVIEW_GROUP = "overview"
MLOPS_GROUP = "mlops"


class _Sender:
    """Fans events out to the channel layer from one background thread with a long-lived event loop.

    A request (or a worker's progress callback) only puts the message on a queue: it never waits for
    Redis, and the layer's connections stay open between events. One thread keeps the order of events.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid: int | None = None

    def submit(self, group: str, message: dict[str, Any]) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked worker process: start our own thread
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, args=(self._queue,), name="loupe-events", daemon=True).start()
                self._pid = os.getpid()
        self._queue.put((group, message))

    @staticmethod
    def _run(inbox: queue.SimpleQueue) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        layer = get_channel_layer()
        while True:
            group, message = inbox.get()
            try:
                loop.run_until_complete(layer.group_send(group, message))
            except Exception:  # noqa: BLE001 - a dropped live event must never break the sender
                log.warning("could not send %s to %s", message.get("event"), group, exc_info=True)


_sender = _Sender()


def send_now(group: str, event: str, payload: dict[str, Any]) -> None:
    """Send without waiting (outside a transaction, e.g. from a worker's progress callback)."""
    if get_channel_layer() is None:
        return
    message = {"type": "loupe.event", "event": event, "payload": payload, "at": timezone.now().isoformat()}
    _sender.submit(group, message)


def publish(group: str, event: str, payload: dict[str, Any]) -> None:
    """Send once the surrounding transaction commits (immediately when there is none)."""
    transaction.on_commit(lambda: send_now(group, event, payload))
