"""Redis locks with expiry: single flight per scope, and short guards against duplicate work.

A training run holds its scope's lock for as long as it runs; a heartbeat thread keeps extending it. If
the worker dies, nobody extends it, the lock runs out after ``LOUPE_TRAIN_LOCK_TTL`` seconds, and the
sweep marks the run failed: a dead worker never blocks a scope for good.
"""
from __future__ import annotations

import contextlib
import threading
from functools import lru_cache

import redis
from django.conf import settings

# Compare-and-act scripts: only the owner may extend or release its lock.
_EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=10)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


def key(*parts: str) -> str:
    return ":".join([settings.LOUPE_KEY_PREFIX, *parts])


def train_lock_key(kind: str, scope_key: str) -> str:
    return key("train-lock", kind, scope_key or "_global")


class ScopeLock:
    def __init__(self, kind: str, scope_key: str, ttl: int | None = None):
        self.key = train_lock_key(kind, scope_key)
        self.ttl = int(ttl or settings.LOUPE_TRAIN_LOCK_TTL)

    def acquire(self, owner: str) -> bool:
        return bool(client().set(self.key, owner, nx=True, ex=self.ttl))

    def holder(self) -> str | None:
        return client().get(self.key)

    def extend(self, owner: str) -> bool:
        return bool(client().eval(_EXTEND, 1, self.key, owner, self.ttl))

    def release(self, owner: str) -> bool:
        return bool(client().eval(_RELEASE, 1, self.key, owner))

    @contextlib.contextmanager
    def heartbeat(self, owner: str):
        """Keep the lock while the block runs (a thread extends it every third of its expiry)."""
        stop = threading.Event()

        def beat():
            while not stop.wait(max(0.5, self.ttl / 3)):
                try:
                    self.extend(owner)
                except redis.RedisError:  # a blip: the next beat tries again well before expiry
                    pass

        thread = threading.Thread(target=beat, name=f"lock-heartbeat-{owner}", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=5)


def once_within(name: str, seconds: int) -> bool:
    """True for the first caller within ``seconds`` (a guard against piling up identical work)."""
    return bool(client().set(key("once", name), "1", nx=True, ex=max(1, int(seconds))))
