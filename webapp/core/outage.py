"""A backing service out of reach: the database restarting or refusing connections, Redis down.

Such a failure says nothing about the request: the client should wait and send it again. The 500 handler
answers these with 503 and Retry-After (``webapp.core.views.server_error``). A write is all-or-nothing in one
transaction, so a request that failed this way changed nothing, and its retry is safe: revisions carry
their base revision, reviews their revision, take-next returns the caller's own lease.
"""
from __future__ import annotations

from django.db import InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 2


def _redis_errors() -> tuple[type[BaseException], ...]:
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:   # pragma: no cover - redis is a dependency
        return ()
    return RedisConnectionError, RedisTimeoutError


def is_outage(exc: BaseException | None) -> bool:
    """True for errors of reaching the database or Redis (not for errors of the query or of the data)."""
    seen = set()
    while exc is not None and id(exc) not in seen:   # Django wraps the driver's error: look down the chain
        seen.add(id(exc))
        if isinstance(exc, (OperationalError, InterfaceError) + _redis_errors()):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
