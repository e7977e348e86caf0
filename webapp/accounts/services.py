"""Accounts: the role groups, users with a role, project memberships, API tokens, WebSocket tickets."""
from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from rest_framework.authtoken.models import Token

from webapp.accounts.models import ProjectMembership
from webapp.accounts.roles import ADMIN, PROJECT_ROLES, ROLE_PERMISSIONS, ROLES, default_project_role
from webapp.core.errors import NotFound, ServiceError

WS_TICKET_SECONDS = 30
_TICKET_PREFIX = "ws-ticket:"


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
def user_create(*, username: str, password: str, role: str | None, email: str = ""):
    """A user whose account role is ``role``: ``admin`` (global), ``operator`` / ``reviewer`` (the default
    role when added to a project; nothing until then), or ``None`` (no role at all)."""
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    roles_ensure()
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.set_password(password)
    user.is_staff = role == ADMIN
    user.save()
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


@transaction.atomic
def project_member_add(*, project_id: int, user, role: str | None = None) -> ProjectMembership:
    """Make ``user`` a member of the project in ``role`` (default: the account's role); an existing
    membership takes the new role."""
    role = role or default_project_role(user)
    if role not in PROJECT_ROLES:
        raise ServiceError(f"role must be one of {', '.join(PROJECT_ROLES)} (admins see every project)",
                           details={"field": "role"})
    from django.apps import apps

    if not apps.get_model("labeling.Project").objects.filter(pk=project_id).exists():
        raise NotFound(f"no project {project_id}")
    membership, _ = ProjectMembership.objects.update_or_create(project_id=project_id, user=user,
                                                               defaults={"role": role})
    user.__dict__.pop("_loupe_project_roles", None)
    user.__dict__.pop("_loupe_project_roles_complete", None)
    return membership


def project_member_remove(*, project_id: int, user_id: int) -> None:
    deleted, _ = ProjectMembership.objects.filter(project_id=project_id, user_id=user_id).delete()
    if not deleted:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")


def token_for(*, user) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def ws_ticket_issue(*, user) -> str:
    """A single-use ticket that lets ``user`` open one WebSocket within ``WS_TICKET_SECONDS``."""
    ticket = secrets.token_urlsafe(24)
    cache.set(_TICKET_PREFIX + ticket, user.pk, timeout=WS_TICKET_SECONDS)
    return ticket


def ws_ticket_redeem(*, ticket: str) -> int | None:
    """The user id the ticket was issued to, once: a second redeem (or an expired ticket) gives None."""
    if not ticket or len(ticket) > 64:
        return None
    key = _TICKET_PREFIX + ticket
    user_id = cache.get(key)
    # ``delete`` answers True for one caller only, so two sockets racing with one ticket cannot both pass.
    if user_id is None or not cache.delete(key):
        return None
    return user_id


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
    states = [window_peek(name, limit=limit, window=window)
              for name, limit in _login_counters(username=username, ip=ip)]
    return max((s.retry_after for s in states if s.exceeded), default=0)


def login_failed(*, username: str, ip: str) -> None:
    from django.conf import settings

    from webapp.core.ratelimit import window_add

    for name, limit in _login_counters(username=username, ip=ip):
        window_add(name, limit=limit, window=settings.LOUPE_LOGIN_WINDOW_SECONDS)
