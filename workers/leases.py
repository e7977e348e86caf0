"""Periodic lease sweep: items whose lease ran out go back to the queue."""
from webapp.core import tasknames
from webapp.labeling.services import lease_expire_stale as _expire
from workers.base import loupe_task


@loupe_task(tasknames.LEASE_EXPIRE_STALE)
def lease_expire_stale() -> int:
    return _expire()
