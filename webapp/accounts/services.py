"""Accounts: the role groups and their permissions, users with a role, API tokens."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from rest_framework.authtoken.models import Token

from webapp.accounts.roles import ROLE_PERMISSIONS, ROLES


def roles_ensure() -> None:
    """Create the role groups and grant their permissions (idempotent; runs after every migrate)."""
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for dotted in ROLE_PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm:
                perms.append(perm)
        group.permissions.set(perms)


@transaction.atomic
def user_create(*, username: str, password: str, role: str, email: str = ""):
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    roles_ensure()
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.set_password(password)
    user.is_staff = role == "admin"
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def token_for(*, user) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def _login_counters(*, username: str, ip: str) -> list[tuple[str, int]]:
    import hashlib

    from django.conf import settings

    user = hashlib.sha256(username.lower().encode("utf-8", "replace")).hexdigest()[:32]
    return [(f"login-fail:user-ip:{user}:{ip}", settings.LOUPE_LOGIN_FAILURES_PER_USER),
            (f"login-fail:ip:{ip}", settings.LOUPE_LOGIN_FAILURES_PER_IP)]


def login_blocked(*, username: str, ip: str) -> int:
    """Seconds until ``username`` may try to sign in again from ``ip``; 0 when not blocked. Counts failures
    per user name and address (guessing one password) and per address (trying many user names)."""
    from django.conf import settings

    from webapp.core.ratelimit import window_peek

    window = settings.LOUPE_LOGIN_WINDOW_SECONDS
    states = [window_peek(name, limit=limit, window=window) for name, limit in _login_counters(username=username, ip=ip)]
    return max((s.retry_after for s in states if s.exceeded), default=0)


def login_failed(*, username: str, ip: str) -> None:
    from django.conf import settings

    from webapp.core.ratelimit import window_add

    for name, limit in _login_counters(username=username, ip=ip):
        window_add(name, limit=limit, window=settings.LOUPE_LOGIN_WINDOW_SECONDS)
