"""SECRET_KEY: from the environment in production; never a key that is public in the source code there."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .env import env_str

DEVELOPMENT_KEY = "loupe-insecure-development-key-change-me-in-production-0123456789"
MISSING_KEY_MESSAGE = (
    "SECRET_KEY is not set and DEBUG is off: refusing to start with a key that is public in the source. "
    "Set SECRET_KEY (e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(50))'`, the "
    "same on every web and worker process), or DEBUG=1 for development, or LOUPE_LOCAL=1 for a run on this "
    "machine only (a private key is then generated into var/secret_key)."
)


# Django's own minima (django.core.checks.security.base: W009); a key below them is guessable.
MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5


def key_refusal(key: str) -> str:
    """Why ``key`` must not sign a deployment's sessions and tokens; "" when it may."""
    if key == DEVELOPMENT_KEY:
        return "SECRET_KEY is the development key, which is public in the source code"
    if len(key) < MIN_LENGTH or len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return (f"SECRET_KEY has {len(key)} characters ({len(set(key))} different); it needs at least "
                f"{MIN_LENGTH} ({MIN_UNIQUE_CHARACTERS} different)")
    return ""


def _local_key(var_dir: Path) -> str:
    """A random key made once per checkout and kept (owner-readable only) under var/."""
    path = var_dir / "secret_key"
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) >= MIN_LENGTH:
            return key
        raise ImproperlyConfigured(f"{path} holds no usable key; delete it to have a new one made") from None
    with os.fdopen(fd, "w") as f:
        key = secrets.token_urlsafe(50)
        f.write(key)
    return key


def secret_key(*, debug: bool, local: bool, var_dir: Path) -> str:
    key = env_str("SECRET_KEY")
    if key:
        refusal = "" if local else key_refusal(key)
        if refusal:
            raise ImproperlyConfigured(f"{refusal}: refusing to start. Set a random one (e.g. the output of "
                                       "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`).")
        return key
    if debug:
        return DEVELOPMENT_KEY
    if local:
        return _local_key(var_dir)
    raise ImproperlyConfigured(MISSING_KEY_MESSAGE)
