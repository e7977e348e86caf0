"""Every task module, imported by the worker at start (``include`` of the Celery app)."""
from workers import assets, heartbeat, inference, leases, rescoring, training, triggers  # noqa: F401
