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
