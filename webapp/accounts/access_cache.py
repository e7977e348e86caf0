"""Who a request is, resolved once and remembered briefly: an API token's user, whether they are an admin,
and their role in every project they belong to.

Without it every API call costs three queries before it does anything (the token with its user, the admin
group, the membership). Each server process keeps the answers in memory (no round trip at all: on a busy
machine a round trip, to PostgreSQL or to Redis, is what a request waits for), for ``ACCESS_CACHE_SECONDS``
at most, and forgets them when anything they hold changes: the token, the user row, their groups, any of
their memberships. A change is broadcast to every process over Redis pub/sub, at once and again when its
transaction commits (so that a request reading the old rows meanwhile cannot keep them).

A process serves from memory only while its listener is subscribed; entries made before a reconnect are
not served (a message may have been missed meanwhile), and an entry is not stored when a change of its
user was announced while it was being read. The expiry bounds changes made behind the ORM's back (raw SQL,
``QuerySet.update``).
"""
from __future__ import annotations

import copy
import hashlib
import logging
import random
import threading
import time

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

log = logging.getLogger(__name__)
ACCESS_CACHE_SECONDS = 30


def _digest(token_key: str) -> str:
    return hashlib.sha256(token_key.encode()).hexdigest()[:40]


def user_with_access(user):
    """Fill the memoised answers of the permission checks on ``user``: admin or not, every membership role."""
    is_admin(user)
    user.__dict__[ROLES_ATTR] = membership_roles(user=user)
    user.__dict__[ROLES_COMPLETE_ATTR] = True
    return user


class AccessCache:
    """Token digest -> user with their access, per process; see the module's docstring."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, int, object]] = {}   # digest -> (expires, generation, user)
        self._forgotten: dict[int, float] = {}                      # user id -> when a change was announced
        self._lock = threading.Lock()
        self._generation = 0          # bumped on every (re)subscription
        self._listening = False
        self._thread: threading.Thread | None = None
        self._subscribed = threading.Event()
        self._publisher = None

    @property
    def channel(self) -> str:
        return f"{settings.LOUPE_KEY_PREFIX}:access-forget"

    def start(self) -> None:
        """Subscribe now (a server's warm-up) rather than on the first request."""
        self._ensure_listener()

    def _ensure_listener(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._listen, name="loupe-access-cache", daemon=True)
                    self._thread.start()
            self._subscribed.wait(timeout=2)   # the first requests of a process: usually a few milliseconds

    def _listen(self) -> None:
        import redis

        while True:
            try:
                pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=False)
                pubsub.subscribe(self.channel)
                for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        with self._lock:
                            self._generation += 1
                            self._listening = True
                        self._subscribed.set()
                    elif message["type"] == "message":
                        self._drop(message["data"].decode())
            except Exception:  # noqa: BLE001 - Redis away: serve nothing from memory until subscribed again
                log.debug("access cache listener lost its subscription", exc_info=True)
            with self._lock:
                self._listening = False
                self._entries.clear()
            time.sleep(1)

    def _drop(self, what: str) -> None:
        kind, _, value = what.partition(":")
        with self._lock:
            if kind == "user":
                user_id = int(value)
                self._forgotten[user_id] = time.monotonic()
                for digest in [d for d, (_, _, u) in self._entries.items() if u.pk == user_id]:
                    del self._entries[digest]
            elif kind == "token":
                self._entries.pop(value, None)

    def get(self, digest: str):
        self._ensure_listener()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            expires, generation, user = entry
            if not self._listening or generation != self._generation or expires < time.monotonic():
                del self._entries[digest]
                return None
        # Each request gets its own copy: views memoise on the user object.
        return copy.copy(user)

    def put(self, digest: str, user, *, read_since: float, generation: int) -> None:
        with self._lock:
            if not self._listening or generation != self._generation:
                return
            if self._forgotten.get(user.pk, float("-inf")) >= read_since:
                return   # a change of this user was announced while we read: what we read may be old
            # Expiries spread over the second half of the period: entries filled in one burst (a process's
            # first second under load) would otherwise all be read again from the database in the same one.
            lifetime = ACCESS_CACHE_SECONDS * (0.5 + 0.5 * random.random())
            self._entries[digest] = (time.monotonic() + lifetime, generation, copy.copy(user))

    def snapshot(self) -> tuple[float, int]:
        with self._lock:
            return time.monotonic(), self._generation

    def announce(self, what: str) -> None:
        """Forget here at once and in every process (this one included) through Redis."""
        self._drop(what)
        try:
            if self._publisher is None:
                import redis

                self._publisher = redis.Redis.from_url(settings.REDIS_URL)
            self._publisher.publish(self.channel, what)
        except Exception:  # noqa: BLE001 - listeners that miss it resubscribe and start empty
            log.warning("could not announce an access change (%s)", what, exc_info=True)


access_cache = AccessCache()


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication with the user (and their roles) taken from memory when known."""

    def authenticate_credentials(self, key):
        digest = _digest(key)
        cached = access_cache.get(digest)
        if cached is not None:
            return cached, Token(key=key, user=cached)
        read_since, generation = access_cache.snapshot()
        user, token = super().authenticate_credentials(key)   # raises on an unknown token or inactive user
        user_with_access(user)
        access_cache.put(digest, user, read_since=read_since, generation=generation)
        return user, token


def _announce(what: str) -> None:
    access_cache.announce(what)
    transaction.on_commit(lambda: access_cache.announce(what))


def access_forget(*, user_id: int | None) -> None:
    """Drop the remembered access of ``user_id`` in every process, now and once the transaction commits."""
    if user_id is not None:
        _announce(f"user:{user_id}")


def _forget_token(sender, instance, **kwargs):
    _announce(f"token:{_digest(instance.key)}")
    access_forget(user_id=instance.user_id)


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
