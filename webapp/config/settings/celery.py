"""Celery: broker and result backend on Redis (or CELERY_BROKER_URL, e.g. RabbitMQ); three queues."""
import os
from pathlib import Path

from webapp.core import tasknames

from .env import env_bool, env_int, env_str
from .redis import LOUPE_KEY_PREFIX, REDIS_URL

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_QUEUES_NAMES = ("infer", "train", "cpu")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1


def worker_concurrency_for_device() -> int:
    """Worker processes when none are named (``--concurrency`` or CELERY_WORKER_CONCURRENCY): one on a GPU
    machine (one process per GPU, each pinned with LOUPE_DEVICE=cuda:K: the model holds the device, and
    host-side decoding runs on threads inside the process), one per core on a CPU (each process's torch
    then takes one thread, see workers.base: on 2 cores two such processes predicted 29.4-30.8 items/s
    against 24.4-27.7 for one process of two threads, bench/loop_infer.py). Read without importing torch
    (the web process)."""
    device = os.environ.get("LOUPE_DEVICE", "")
    on_gpu = device.startswith("cuda") or (not device and (
        os.environ.get("CUDA_VISIBLE_DEVICES", "") not in ("", "-1") or Path("/dev/nvidia0").exists()))
    return 1 if on_gpu else max(1, os.cpu_count() or 1)


CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 0) or worker_concurrency_for_device()
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "priority_steps": list(range(10)),
                                   "queue_order_strategy": "priority"}
if LOUPE_KEY_PREFIX != "loupe":
    # A separate namespace on a shared Redis (e.g. a test run next to a live demo): queues included.
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = f"{LOUPE_KEY_PREFIX}:"
# Tests may run tasks inline; the integration tests start a real worker instead.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = {
    "expire-stale-leases": {"task": tasknames.LEASE_EXPIRE_STALE, "schedule": 30.0},
    # The loop's safety net: T-minute triggers, runs of dead workers, bootstrap, unpredicted items.
    "loop-sweep": {"task": tasknames.LOOP_SWEEP, "schedule": float(env_int("LOUPE_LOOP_SWEEP_SECONDS", 20))},
}
