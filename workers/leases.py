"""Periodic lease sweep: items whose lease ran out go back to the queue."""
from webapp.labeling.services import lease_expire_stale as _expire
from workers.base import loupe_task


@loupe_task("cpu")
def lease_expire_stale() -> int:
    return _expire()
