"""Each worker says it is alive: its node name, the queues it consumes, its device, every few seconds.

A thread of the worker's main process (started when the worker is ready, stopped when it shuts down)
calls the web app's service; the monitoring page reads the rows. No task message is involved, so a
worker whose queues are full of long training runs still beats.
"""
from __future__ import annotations

import logging
import os
import threading

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from webapp.mlops.services import worker_heartbeat, worker_stopped

log = logging.getLogger(__name__)
_STOP = threading.Event()
_STATE: dict = {}


def describe_device() -> str:
    """'cpu', or the GPU the worker runs on (e.g. 'cuda: NVIDIA H200')."""
    from workers.models import device

    name = device()
    if name.startswith("cuda"):
        import torch

        return f"{name}: {torch.cuda.get_device_name(torch.device(name))}"
    return name


def beat() -> None:
    """One heartbeat of this worker (the thread's loop body; callable directly)."""
    close_old_connections()   # a long-lived thread: never reuse a connection the database has dropped
    worker_heartbeat(name=_STATE["name"], queues=_STATE["queues"], device=_STATE["device"], pid=os.getpid(),
                     started_at=_STATE["started_at"])


def _loop() -> None:
    interval = max(1, int(settings.LOUPE_WORKER_HEARTBEAT_SECONDS))
    while not _STOP.is_set():
        try:
            beat()
        except Exception:   # the database being away for a moment must not end the heartbeat for good
            log.exception("worker heartbeat failed")
        _STOP.wait(interval)


@worker_ready.connect
def start(sender=None, **_kwargs) -> None:
    consumer = sender
    queues = sorted(consumer.app.amqp.queues.consume_from) if consumer is not None else []
    _STATE.update(name=getattr(consumer, "hostname", None) or f"worker@{os.uname().nodename}", queues=queues,
                  device=describe_device(), started_at=timezone.now())
    _STOP.clear()
    threading.Thread(target=_loop, name="loupe-heartbeat", daemon=True).start()


@worker_shutdown.connect
def stop(**_kwargs) -> None:
    _STOP.set()
    if _STATE.get("name"):
        try:
            close_old_connections()
            worker_stopped(name=_STATE["name"])
        except Exception:
            log.exception("recording the worker's stop failed")
