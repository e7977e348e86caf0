"""Every task module, imported by the worker at start (``include`` of the Celery app)."""
from workers import (  # noqa: F401
    assets,
    golden_proposals,
    heartbeat,
    inference,
    leases,
    omr_recompute,
    rescoring,
    training,
    triggers,
)
