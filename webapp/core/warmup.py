"""A server process made ready before it takes its first request.

The first second of a fresh web process is slow for everyone it serves: the URL conf and the views' modules
are imported under the import lock on the first request, the access cache subscribes to Redis, the
database pool grows one connection at a time while requests queue for it. Under 50 operators that first
second of each process was most of the queue's p95 (``bench/spine_queue.py --mode open``). Servers that
speak the ASGI lifespan protocol (uvicorn) run :func:`warm_process` before they accept a connection;
under daphne, which does not, the first requests pay as before.
"""
from __future__ import annotations

import logging
import os

from asgiref.sync import sync_to_async

log = logging.getLogger(__name__)


def warm_process() -> None:
    from django.db import connections
    from django.urls import get_resolver

    from webapp.accounts.access_cache import access_cache

    get_resolver().url_patterns          # imports every view module
    get_resolver().reverse_dict          # fills the resolver's tables
    access_cache.start()                 # subscribed before the first token arrives
    pool = getattr(connections["default"], "pool", None)
    if pool is not None:
        pool.open(wait=True, timeout=10)
        wanted = min(int(os.environ.get("LOUPE_WARM_CONNECTIONS", "4")), pool.max_size)
        held = []   # grown now, not under the first burst
        try:
            for _ in range(wanted):
                held.append(pool.getconn(timeout=10))
        finally:
            for conn in held:
                pool.putconn(conn)


class WarmOnStartup:
    """ASGI wrapper: answers the lifespan protocol, warming the process at startup; passes the rest on."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await sync_to_async(warm_process, thread_sensitive=True)()
                except Exception:  # noqa: BLE001 - a cold process still serves; it is only slower at first
                    log.warning("warm-up failed; this process starts cold", exc_info=True)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
