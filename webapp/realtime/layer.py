"""The channel layer: channels_redis with its blocking pop shorter than redis-py's socket timeout.

channels_redis waits for a message with a BZPOPMIN of 5 s; redis-py (8) gives every socket a 5 s read
timeout by default. An idle consumer's pop and its socket's timeout then end together, and the read that
loses the race raises: the consumer dies and the browser's socket closes and reconnects, about every five
seconds, losing what was sent meanwhile. A 2 s pop ends well inside the timeout and costs one small round
trip per idle consumer every two seconds.

A consumer's receive is cancelled when its socket closes. That cancellation has been seen to get lost
inside redis-py's read (the task stays "cancelling" and goes on popping: with the 5 s pop the socket
timeout ended it, with a 2 s pop nothing would); so a pop that returns to a task whose cancellation is
pending ends the receive as the cancellation should have.
"""
import asyncio

from channels_redis.core import RedisChannelLayer


class ShortPopRedisChannelLayer(RedisChannelLayer):
    brpop_timeout = 2

    async def _brpop_with_clean(self, index, channel, timeout):
        member = await super()._brpop_with_clean(index, channel, timeout)
        task = asyncio.current_task()
        if member is None and task is not None and task.cancelling():
            raise asyncio.CancelledError("cancelled while the pop was blocked")
        return member
