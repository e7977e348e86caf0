"""Every task module, imported by the worker at start (``include`` of the Celery app)."""
from workers import assets, inference, leases, omr_recompute, training, triggers  # noqa: F401
