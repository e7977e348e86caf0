"""A server that speaks the ASGI lifespan protocol gets a warmed process before its first request."""
import asyncio

import pytest
from asgiref.testing import ApplicationCommunicator
from django.db import connections

from webapp.accounts.access_cache import access_cache
from webapp.config.asgi import application


@pytest.mark.django_db(transaction=True)
def test_lifespan_startup_warms_the_process_and_shutdown_completes(monkeypatch):
    monkeypatch.setenv("LOUPE_WARM_CONNECTIONS", "3")

    async def lifespan():
        communicator = ApplicationCommunicator(application, {"type": "lifespan", "asgi": {"version": "3.0"}})
        await communicator.send_input({"type": "lifespan.startup"})
        started = await communicator.receive_output(timeout=30)
        await communicator.send_input({"type": "lifespan.shutdown"})
        stopped = await communicator.receive_output(timeout=5)
        await communicator.wait(timeout=5)
        return started, stopped

    started, stopped = asyncio.run(lifespan())
    assert started == {"type": "lifespan.startup.complete"}
    assert stopped == {"type": "lifespan.shutdown.complete"}
    assert access_cache._listening                      # subscribed before any token arrived
    pool = getattr(connections["default"], "pool", None)
    if pool is not None:                                 # PostgreSQL: the pool grew before the first burst
        assert pool.get_stats()["pool_size"] >= 3
