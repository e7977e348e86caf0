"""Coalesced events: for values that are costly to compute and change in bursts (queue depths).

Each ``mark(key, fn)`` asks for ``fn`` to run soon; calls with the same key within one interval run it
once, on the trailing edge, so the last state is always sent and a busy queue costs one count per
interval instead of one per request.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


class Coalescer:
    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self._pending: dict[str, Callable[[], None]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def mark(self, key: str, fn: Callable[[], None]) -> None:
        with self._lock:
            self._pending[key] = fn
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="loupe-coalescer", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        from django.db import connections

        while True:
            self._wake.wait()
            time.sleep(self.interval)
            with self._lock:
                pending, self._pending = self._pending, {}
                self._wake.clear()
            for key, fn in pending.items():
                try:
                    fn()
                except Exception:  # noqa: BLE001 - a live update may be dropped; the next change resends
                    log.debug("coalesced event %s failed", key, exc_info=True)
            connections.close_all()


coalescer = Coalescer()
