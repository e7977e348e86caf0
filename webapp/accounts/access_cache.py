"""Who a request is, resolved once and remembered briefly: an API token's user, whether they are an admin,
and their role in every project they belong to, in one cache entry (Redis) per token.

Without it every API call costs three queries before it does anything (the token with its user, the admin
group, the membership). The entry lives ``ACCESS_CACHE_SECONDS`` at most, and is dropped at once (and again
on commit, so that a concurrent request cannot put back what the transaction is changing) when anything it
holds changes: the token, the user row, their groups, any of their memberships. The expiry only bounds
changes made behind the ORM's back (raw SQL, ``QuerySet.update``).
"""
from __future__ import annotations

import copy
import hashlib
import pickle

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from webapp.accounts.models import ProjectMembership
from webapp.accounts.permissions import ROLES_ATTR, ROLES_COMPLETE_ATTR
from webapp.accounts.roles import is_admin
from webapp.accounts.selectors import membership_roles

ACCESS_CACHE_SECONDS = getattr(settings, "LOUPE_ACCESS_CACHE_SECONDS", 30)


def _key(token_key: str) -> str:
    return f"{settings.LOUPE_KEY_PREFIX}:access:" + hashlib.sha256(token_key.encode()).hexdigest()[:40]


class _Store:
    """One Redis client per process (Django's cache builds a client object per call, which costs more
    than the read itself on this path); entries are pickled users."""

    def __init__(self) -> None:
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(settings.REDIS_URL)
        return self._client

    def get(self, key: str):
        raw = self.client.get(key)
        return None if raw is None else pickle.loads(raw)

    def set(self, key: str, value, timeout: int) -> None:
        self.client.set(key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL), ex=timeout)

    def delete_many(self, keys: list[str]) -> None:
        if keys:
            self.client.delete(*keys)


cache = _Store()


def user_with_access(user):
    """Fill the memoised answers of the permission checks on ``user``: admin or not, every membership role."""
    is_admin(user)
    user.__dict__[ROLES_ATTR] = membership_roles(user=user)
    user.__dict__[ROLES_COMPLETE_ATTR] = True
    return user


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication with the user (and their roles) taken from the cache when present."""

    def authenticate_credentials(self, key):
        cached = cache.get(_key(key))
        if cached is not None:
            return cached, Token(key=key, user=cached)
        user, token = super().authenticate_credentials(key)   # raises on an unknown token or inactive user
        user_with_access(user)
        cached = copy.copy(user)
        # Not the password hash: it stays in the database (read back on use, should anything need it).
        cached.__dict__.pop("password", None)
        cache.set(_key(key), cached, timeout=ACCESS_CACHE_SECONDS)
        return user, token


def access_forget(*, user_id: int | None) -> None:
    """Drop the cached access of ``user_id`` now and once the current transaction commits."""
    if user_id is None:
        return
    keys = [_key(k) for k in Token.objects.filter(user_id=user_id).values_list("key", flat=True)]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def _forget_token(sender, instance, **kwargs):
    keys = [_key(instance.key)]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def _forget_membership(sender, instance, **kwargs):
    access_forget(user_id=instance.user_id)


def _forget_user(sender, instance, **kwargs):
    access_forget(user_id=instance.pk)


def _forget_groups(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if not reverse:          # user.groups.add(...): the instance is the user
        access_forget(user_id=instance.pk)
    elif pk_set:             # group.user_set.add(...): the users are in pk_set
        for user_id in pk_set:
            access_forget(user_id=user_id)
    else:                    # group.user_set.clear(): whoever was in it
        for user_id in instance.user_set.values_list("pk", flat=True):
            access_forget(user_id=user_id)


def connect_signals() -> None:
    User = get_user_model()
    post_save.connect(_forget_token, sender=Token, dispatch_uid="loupe-access-token-save")
    post_delete.connect(_forget_token, sender=Token, dispatch_uid="loupe-access-token-delete")
    post_save.connect(_forget_membership, sender=ProjectMembership, dispatch_uid="loupe-access-member-save")
    post_delete.connect(_forget_membership, sender=ProjectMembership, dispatch_uid="loupe-access-member-delete")
    post_save.connect(_forget_user, sender=User, dispatch_uid="loupe-access-user-save")
    post_delete.connect(_forget_user, sender=User, dispatch_uid="loupe-access-user-delete")
    m2m_changed.connect(_forget_groups, sender=User.groups.through, dispatch_uid="loupe-access-groups")

