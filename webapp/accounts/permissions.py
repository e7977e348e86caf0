"""The permission table: which role may do which action. The API, the pages, the media files and the
WebSockets all ask it (``can`` / ``check``); nothing else grants access.

An action is either *global* (the registry, creating projects) and judged on the user's global role,
or *per project* and judged on the user's role in the project the request names (through a project,
an item, a lease or an asset in the URL). The role in a project is ``admin`` for admins, else the
membership's role, else ``none``. The global role is ``admin`` for admins, else the strongest
membership role, else ``none``.

Refusals do not leak: a per-project request by someone who cannot see the project answers 404, the
same as for a project that does not exist; someone who sees the project but lacks the action gets 403.

A new endpoint declares its action: ``permission_action = "item.label"`` on a DRF view (or a dict
per HTTP method), and ``permission_target = "item:pk"`` (what the URL names, and in which keyword) when
the action is per project; a page or file view uses the ``requires`` decorator. A view that declares
nothing is refused, and the generated permission test fails for it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_http_methods
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from webapp.accounts.roles import ADMIN, NONE, OPERATOR, RANK, REVIEWER, is_admin
from webapp.accounts.selectors import (
    TARGET_MODELS, asset_uploaded_by, membership_role, membership_roles, projects_of_target,
)
from webapp.core.errors import NotAllowed, NotFound

# Memos on a user object (filled by webapp.accounts.access_cache, or one project at a time).
ROLES_ATTR = "_loupe_project_roles"
ROLES_COMPLETE_ATTR = "_loupe_project_roles_complete"

PUBLIC = "public"      # anyone, signed in or not (login, health, the API schema)
ACCOUNT = "account"    # any signed-in user, whatever their role (about themselves only)
GLOBAL = "global"      # judged on the user's global role
PROJECT = "project"    # judged on the user's role in the project the request names

ROLE_COLUMNS = (NONE, OPERATOR, REVIEWER, ADMIN)


@dataclass(frozen=True)
class Rule:
    scope: str
    roles: frozenset[str]
    why: str


def _rule(scope: str, marks: str, why: str) -> Rule:
    assert len(marks) == len(ROLE_COLUMNS), marks
    return Rule(scope, frozenset(r for r, m in zip(ROLE_COLUMNS, marks) if m == "y"), why)


# The table. Columns: none, operator, reviewer, admin ("y" allowed, "." refused).
TABLE: dict[str, Rule] = {
    "public":           _rule(PUBLIC, "yyyy", "login, logout, health, the API schema and docs"),
    "account.self":     _rule(ACCOUNT, "yyyy", "who am I, my API token, a WebSocket ticket"),
    "project.list":     _rule(ACCOUNT, "yyyy", "the list of projects, filtered to the user's own"),
    "project.create":   _rule(GLOBAL, "...y", "create a project"),
    "asset.upload":     _rule(GLOBAL, ".yyy", "upload images outside a project (then linked into items)"),
    "model.view":       _rule(GLOBAL, "...y", "the registry: versions (with server paths), promotions"),
    "model.promote":    _rule(GLOBAL, "...y", "promote or roll back a champion"),
    "training.view":    _rule(GLOBAL, "...y", "training runs with their logs"),
    "training.manage":  _rule(GLOBAL, "...y", "queue or cancel a training run"),
    "mlops.feed":       _rule(GLOBAL, "...y", "the /ws/mlops/ live feed"),
    "project.view":     _rule(PROJECT, ".yyy", "a project, its queue, its items list, its live feed"),
    "project.upload":   _rule(PROJECT, ".yyy", "upload images into a project"),
    "project.export":   _rule(PROJECT, ".yyy", "export a project's accepted work"),
    "project.manage":   _rule(PROJECT, "...y", "change a project's settings and members"),
    "item.view":        _rule(PROJECT, ".yyy", "an item, its revisions, predictions, images and tiles"),
    "item.label":       _rule(PROJECT, ".yyy", "take next, heartbeat, release, submit a revision"),
    "item.review":      _rule(PROJECT, "..yy", "accept or send back submitted work; re-review a suspect label"),
    "quality.view":     _rule(PROJECT, "..yy", "operators' control accuracy, control items, suspect labels"),
    "item.repredict":   _rule(PROJECT, ".yyy", "ask for a fresh proposal"),
    "item.predict":     _rule(PROJECT, "...y", "record a model's prediction (service accounts)"),
}

# What a URL keyword names, for ``permission_target = "<target>:<kwarg>"``.
TARGETS = tuple(TARGET_MODELS)


def rule_for(action: str) -> Rule:
    try:
        return TABLE[action]
    except KeyError:
        raise LookupError(f"unknown action {action!r}: add it to the permission table") from None


def allowed(role: str, action: str) -> bool:
    return role in rule_for(action).roles


def _all_memberships(user) -> dict[int, str]:
    """Every membership role of the user: the memo filled by the access cache, else a query."""
    if user.__dict__.get(ROLES_COMPLETE_ATTR):
        return user.__dict__[ROLES_ATTR]
    return membership_roles(user=user)


def role_global(user) -> str:
    if not getattr(user, "is_authenticated", False):
        return NONE
    if is_admin(user):
        return ADMIN
    return max(set(_all_memberships(user).values()), key=RANK.__getitem__, default=NONE)


def role_in_project(user, project_id: int) -> str:
    """Remembered on the user object for the rest of the request (the API's gate and the service it
    calls ask the same question); ``project_member_add`` / ``_remove`` forget it. A user from the access
    cache (``webapp.accounts.access_cache``) arrives with every membership known: no query at all."""
    if not getattr(user, "is_authenticated", False):
        return NONE
    if is_admin(user):
        return ADMIN
    known = user.__dict__.setdefault(ROLES_ATTR, {})
    if user.__dict__.get(ROLES_COMPLETE_ATTR):
        return known.get(project_id, NONE)
    if project_id not in known:
        known[project_id] = membership_role(user=user, project_id=project_id)
    return known[project_id]


def visible_project_ids(user) -> set[int] | None:
    """Projects the user may see; ``None`` means all (admins)."""
    if is_admin(user):
        return None
    return {pid for pid, role in _all_memberships(user).items() if allowed(role, "project.view")}


def roles_held(user) -> set[str]:
    """Every role the user holds somewhere (roles nest: a reviewer also labels)."""
    strongest = role_global(user)
    return {r for r in (OPERATOR, REVIEWER, ADMIN) if RANK[r] <= RANK[strongest]}


def _target_role(user, target: str, value) -> str | None:
    """The user's role for the object named in the URL; ``None`` when there is no such object."""
    if target == "project" and not is_admin(user):
        try:  # a membership implies the project exists; without one the answer is 404 either way
            return role_in_project(user, int(value))
        except (TypeError, ValueError, OverflowError):
            return None
    projects = projects_of_target(target=target, value=value)
    roles = [role_in_project(user, pid) for pid in projects]
    if target == "asset" and asset_uploaded_by(asset_id=value, user=user):
        roles.append(role_global(user))  # one's own upload, seen as long as one holds a role somewhere
    elif not projects:
        return None
    return max(roles, key=RANK.__getitem__, default=NONE)


class Refused(Exception):
    """``status`` is 401 (not signed in), 403 (not allowed) or 404 (cannot see the object)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def check(user, action: str, *, target: str | None = None, value=None, project_id: int | None = None) -> str:
    """The role that allows ``action`` (``none`` for public and account actions); else raises ``Refused``.

    For a per-project action name the project directly (``project_id``) or through what the URL
    names (``target`` and ``value``)."""
    rule = rule_for(action)
    if rule.scope == PUBLIC:
        return NONE
    if not getattr(user, "is_authenticated", False):
        raise Refused(401, "sign in first")
    if rule.scope == ACCOUNT:
        return NONE
    if rule.scope == GLOBAL:
        role = role_global(user)
        if role not in rule.roles:
            raise Refused(403, f"{action} is for the roles: {', '.join(sorted(rule.roles))}")
        return role
    if project_id is not None:
        role = role_in_project(user, project_id)
    elif target is not None:
        role = _target_role(user, target, value)
    else:
        raise LookupError(f"{action} is per project: name the project or the URL target")
    if role is None or not allowed(role, "project.view"):
        raise Refused(404, "not found")
    if role not in rule.roles:
        raise Refused(403, f"{action} needs one of the roles {', '.join(sorted(rule.roles))} in this project")
    return role


def require(user, action: str, **where) -> str:
    """``check`` for services: a refusal becomes the domain error the API maps (403 / 404)."""
    try:
        return check(user, action, **where)
    except Refused as refused:
        if refused.status == 404:
            raise NotFound("not found, or not one of your projects") from None
        raise NotAllowed(refused.message) from None


def can(user, action: str, **where) -> bool:
    try:
        check(user, action, **where)
    except Refused:
        return False
    return True


# ----- DRF ---------------------------------------------------------------------------------------

def action_of(view, method: str) -> str | None:
    declared = getattr(view, "permission_action", None)
    if isinstance(declared, dict):
        return declared.get(method.upper()) or (declared.get("GET") if method.upper() in ("HEAD", "OPTIONS") else None)
    return declared


def target_of(view) -> tuple[str, str] | None:
    declared = getattr(view, "permission_target", None)
    if not declared:
        return None
    target, _, kwarg = declared.partition(":")
    if target not in TARGETS or not kwarg:
        raise LookupError(f"permission_target {declared!r}: one of {', '.join(TARGETS)}, then ':<url keyword>'")
    return target, kwarg


class TablePermission(BasePermission):
    """Every API view's gate: the action it declares, judged by the table."""

    message = "not allowed"

    def has_permission(self, request, view):
        action = action_of(view, request.method)
        if action is None:
            self.message = f"{type(view).__name__} declares no permission action for {request.method}"
            return False
        where = {}
        if rule_for(action).scope == PROJECT:
            target, kwarg = target_of(view) or (None, None)
            if target is None:
                raise LookupError(
                    f"{type(view).__name__}: {action} is per project but the view has no permission_target")
            where = {"target": target, "value": view.kwargs.get(kwarg)}
        try:
            request.loupe_role = check(request.user, action, **where)
        except Refused as refused:
            if refused.status == 404:
                raise exceptions.NotFound("not found") from None
            self.message = refused.message
            return False
        return True


# ----- pages and files ---------------------------------------------------------------------------

def _token_user(request):
    """The user of an ``Authorization: Token <key>`` header, as the API reads it; None without one.
    Raises Refused(401) for a token that is unknown (or its user's account is off)."""
    from rest_framework.exceptions import AuthenticationFailed

    from webapp.accounts.access_cache import CachedTokenAuthentication

    try:
        found = CachedTokenAuthentication().authenticate(request)
    except AuthenticationFailed as failed:
        raise Refused(401, f"{failed.detail}") from None
    return found[0] if found else None


def requires(action: str, *, target: str | None = None, methods: tuple[str, ...] = ("GET", "HEAD"),
             api_token: bool = False) -> Callable:
    """Decorate a page or file view: sign-in redirect, the table's decision (404 / 403), allowed methods.

    ``target`` is ``"<target>:<url keyword>"`` for per-project actions, as on API views. With ``api_token``
    (downloads: files, exports) a script may send its API token as on the API instead of a session; a
    header is never sent by a browser on its own, so this opens no way around the CSRF check."""
    parsed = target_of(type("_", (), {"permission_target": target})) if target else None

    def decorate(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            where = {"target": parsed[0], "value": kwargs.get(parsed[1])} if parsed else {}
            if api_token and not request.user.is_authenticated:
                try:
                    request.user = _token_user(request) or request.user
                except Refused as refused:
                    response = HttpResponse(refused.message, status=401, content_type="text/plain; charset=utf-8")
                    response["WWW-Authenticate"] = "Token"
                    return response
            try:
                request.loupe_role = check(request.user, action, **where)
            except Refused as refused:
                if refused.status == 401:
                    return redirect_to_login(request.get_full_path())
                if refused.status == 404:
                    raise Http404("not found") from None
                raise PermissionDenied(refused.message) from None
            return view(request, *args, **kwargs)

        guarded = require_http_methods(list(methods))(guarded)
        guarded.permission_action = action
        guarded.permission_target = target
        guarded.permission_methods = tuple(m for m in methods if m != "HEAD")
        return guarded

    return decorate


def declare(view, action: str, methods: tuple[str, ...] = ("GET",)):
    """Mark a view we do not write (login, the schema) with its action, for the generated test."""
    view.permission_action = action
    view.permission_methods = methods
    return view
