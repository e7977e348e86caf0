"""Health of the parts the application needs: database, Redis, and the Celery workers."""
from __future__ import annotations

import os
import time

from django.conf import settings
from django.db import connection


def check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor, "ms": round((time.perf_counter() - started) * 1000, 1)}
    except Exception as exc:  # noqa: BLE001 - health reports the failure instead of raising it
        return {"ok": False, "error": str(exc)}


def check_redis() -> dict:
    import redis

    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1),
                "embedded": bool(os.environ.get("LOUPE_EMBEDDED_REDIS"))}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)}


def check_workers(timeout: float = 1.0) -> dict:
    from webapp.config.celery import app

    try:
        replies = app.control.ping(timeout=timeout) or []
        names = sorted(name for reply in replies for name in reply)
        return {"ok": bool(names), "count": len(names), "names": names}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "count": 0, "error": str(exc)}


def health_report(*, include_workers: bool = True) -> dict:
    report = {"database": check_database(), "redis": check_redis()}
    if include_workers:
        report["workers"] = check_workers()
    report["ok"] = report["database"]["ok"] and report["redis"]["ok"]
    return report
