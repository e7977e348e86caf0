"""System checks of Loupe's own settings (``manage.py check --deploy``)."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secret_key_is_private(app_configs, **kwargs) -> list[Error]:
    """DEBUG without SECRET_KEY runs on the public development key; a deployment must not."""
    from webapp.config.settings.secret_key import key_refusal

    refusal = "" if settings.LOUPE_LOCAL else key_refusal(settings.SECRET_KEY)
    if not refusal:
        return []
    return [Error(refusal, hint="Set SECRET_KEY to a random value of 50 characters or more (the same on every "
                                "web and worker process).", id="loupe.E001")]
