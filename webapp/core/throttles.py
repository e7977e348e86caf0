"""Per-user request rates of costly endpoints (uploads, re-predict), kept in the shared cache (Redis).

The rates come from the settings at request time (LOUPE_THROTTLE_RATES), so that they can be set from the
environment and changed in tests; a refusal is DRF's 429 with a Retry-After header.
"""
from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle


class SettingsScopedRateThrottle(ScopedRateThrottle):
    def get_rate(self):
        return settings.LOUPE_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return super().get_cache_key(request, view)
        # The join time next to the id: a counter never carries over to another user given a reused id.
        ident = f"{user.pk}-{user.date_joined.timestamp():.6f}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
