"""Fixed-window counters in the shared cache (Redis): the same limits across every web process."""
from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Window:
    count: int
    limit: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count >= self.limit


def _key(name: str, window: int) -> tuple[str, int]:
    now = time.time()
    index = int(now // window)
    return f"rl:{name}:{index}", max(1, int((index + 1) * window - now) + 1)


def window_add(name: str, *, limit: int, window: int, amount: int = 1) -> Window:
    """Add ``amount`` to the counter ``name`` of the current window and return it."""
    key, retry_after = _key(name, window)
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key, amount)
    except ValueError:  # expired between add and incr
        cache.set(key, amount, timeout=window + 1)
        count = amount
    return Window(count=count, limit=limit, retry_after=retry_after)


def window_peek(name: str, *, limit: int, window: int) -> Window:
    key, retry_after = _key(name, window)
    return Window(count=int(cache.get(key) or 0), limit=limit, retry_after=retry_after)
