"""The channel layer keeps an idle consumer's receive alive past redis-py's socket timeout."""
import asyncio
import time

import pytest
from channels.layers import get_channel_layer


@pytest.mark.slow
def test_an_idle_receive_outlives_the_socket_timeout():
    # A message sent after 6 s of silence (redis-py's read timeout is 5 s) reaches the waiting receive:
    # with channels_redis's 5 s blocking pop the receive raised TimeoutError at 5.0 s instead.
    async def run():
        layer = get_channel_layer()
        channel = await layer.new_channel()

        async def later():
            await asyncio.sleep(6)
            await layer.send(channel, {"type": "late.event"})

        sender = asyncio.create_task(later())
        started = time.monotonic()
        message = await asyncio.wait_for(layer.receive(channel), timeout=20)
        await sender
        return message, time.monotonic() - started

    message, waited = asyncio.run(run())
    assert message == {"type": "late.event"}
    assert waited >= 6
