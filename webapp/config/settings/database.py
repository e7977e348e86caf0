"""Database: DATABASE_URL (PostgreSQL in production and CI), else a SQLite file under var/."""
import dj_database_url

from .env import BASE_DIR, env_int, env_str

_url = env_str("DATABASE_URL")
if _url:
    DATABASES = {"default": dj_database_url.parse(_url, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # Under ASGI each request may run on its own thread, so per-thread persistent connections would
        # pile up; a process-wide pool (psycopg_pool) reuses a bounded set instead.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 1), "max_size": env_int("DB_POOL_MAX", 16), "timeout": 20}
else:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "var" / "loupe.sqlite3")),
            # WAL + a busy timeout let the web server and the worker write the same file.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE",
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH", str(BASE_DIR / "var" / "test.sqlite3"))},
        }
    }
