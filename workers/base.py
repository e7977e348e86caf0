"""The one task decorator: name, queue, time limits, late acks and retry policy in one place.

Names come from the one registry, ``webapp.core.tasknames``, which the web app enqueues by; the queue is
the name's middle part.

Tasks take ids and plain JSON values only (never model instances), and must be idempotent: with
``acks_late`` a task whose worker died is delivered again.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from celery.signals import worker_init, worker_process_init

from webapp.config.celery import app
from webapp.core import tasknames

QUEUES = ("infer", "train", "cpu")
_PLAIN = (str, int, float, bool, type(None))


def _check_plain(value: Any, path: str) -> None:
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{path}: task argument keys must be strings")
            _check_plain(v, f"{path}.{k}")
        return
    raise TypeError(f"{path}: tasks take ids and plain values, not {type(value).__name__}")


def loupe_task(name: str, *, time_limit: int = 600, soft_time_limit: int | None = None,
               max_retries: int = 3, retry_for: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError),
               bind: bool = False, **options: Any) -> Callable:
    """Register a Celery task under ``name`` (one of ``webapp.core.tasknames``) on the queue it names."""
    if name not in tasknames.ALL:
        raise ValueError(f"task name {name!r} is not in webapp.core.tasknames")
    queue = tasknames.queue_of(name)
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r} in {name!r}; one of {QUEUES}")

    def decorate(fn: Callable) -> Any:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            _check_plain(list(args[1:] if bind else args), "args")
            _check_plain(kwargs, "kwargs")
            return fn(*args, **kwargs)

        return app.task(
            run, name=name, queue=queue, bind=bind, acks_late=True, reject_on_worker_lost=True,
            time_limit=time_limit, soft_time_limit=soft_time_limit or max(1, time_limit - 30),
            autoretry_for=retry_for, retry_backoff=True, retry_backoff_max=120, retry_jitter=True,
            max_retries=max_retries, **options,
        )

    return decorate


_pool_processes: int | None = None   # the pool's process count as started; inherited by its forked children


@worker_init.connect
def _remember_the_pool_size(sender: Any = None, **kwargs: Any) -> None:
    """The pool's process count as started (``--concurrency`` or the setting), for its children below: a
    worker started with ``--concurrency 1`` beside others must not size its threads by the setting."""
    global _pool_processes
    processes = getattr(sender, "concurrency", None)
    _pool_processes = processes if isinstance(processes, int) and processes > 0 else None


@worker_process_init.connect
def _share_the_cores(**kwargs: Any) -> None:
    """On a CPU, the worker's processes share the cores: each process's torch takes its part of them
    (torch's default, every core in every process, makes them fight over the caches)."""
    import os

    from django.conf import settings

    if os.environ.get("LOUPE_DEVICE", "cpu").startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        processes = _pool_processes or settings.CELERY_WORKER_CONCURRENCY
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, processes)))
