"""Reads behind the permission table: a user's role per project, and which project an object is in.

Models of other apps are looked up by label (``apps.get_model``) so that accounts, which every app
imports for its permission checks, imports none of them back.
"""
from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet

from webapp.accounts.models import ProjectMembership
from webapp.accounts.roles import NONE, RANK


def membership_role(*, user, project_id: int) -> str:
    if not getattr(user, "is_authenticated", False):
        return NONE
    try:
        role = ProjectMembership.objects.filter(user=user, project_id=project_id).values_list("role", flat=True).first()
    except OverflowError:  # an id no database column holds
        return NONE
    return role or NONE


def membership_roles(*, user) -> dict[int, str]:
    """Project id -> role for every membership of the user."""
    if not getattr(user, "is_authenticated", False):
        return {}
    return dict(ProjectMembership.objects.filter(user=user).values_list("project_id", "role"))


def strongest_membership_role(*, user) -> str:
    roles = set(membership_roles(user=user).values())
    return max(roles, key=RANK.__getitem__, default=NONE)


def membership_list(*, project_id: int) -> QuerySet[ProjectMembership]:
    return ProjectMembership.objects.filter(project_id=project_id).select_related("user").order_by("user__username")


def _model(label: str):
    return apps.get_model(label)


# What a URL may name, as (model label, lookup field, path from the model to its project id). A new
# kind of object (a flag, a draft) is one line here.
TARGET_MODELS = {
    "project": ("labeling.Project", "pk", "pk"),
    "project_slug": ("labeling.Project", "slug", "pk"),
    "item": ("labeling.WorkItem", "pk", "project_id"),
    "lease": ("labeling.Lease", "token", "item__project_id"),
    "prediction": ("labeling.Prediction", "pk", "item__project_id"),
    "flag": ("labeling.Flag", "pk", "item__project_id"),
    "asset": ("labeling.WorkItemAsset", "asset_id", "item__project_id"),  # an asset can be in several projects
}


# An item never moves to another project, and PostgreSQL never hands out an id twice, so there the item ->
# project answer can be remembered for the life of the process (it saves a query on every item URL). Not on
# SQLite, which reuses the highest id after a delete.
_ITEM_PROJECT: dict[int, int] = {}
_ITEM_PROJECT_MAX = 200_000


def _item_project_memo(value) -> int | None:
    if connection.vendor != "postgresql":
        return None
    try:
        return _ITEM_PROJECT.get(int(value))
    except (TypeError, ValueError):
        return None


def _item_project(value) -> list[int]:
    """The project of an item id, in plain SQL: this runs before every item URL (building the ORM query
    cost more than running it)."""
    try:
        item_id = int(value)
    except (TypeError, ValueError):
        return []
    if not -(2 ** 63) <= item_id < 2 ** 63:
        return []
    table = _model("labeling.WorkItem")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT project_id FROM {table} WHERE id = %s", [item_id])
        return [row[0] for row in cursor.fetchall()]


def projects_of_target(*, target: str, value) -> list[int]:
    """The project(s) an object named in a URL belongs to; empty when there is no such object."""
    try:
        label, field, to_project = TARGET_MODELS[target]
    except KeyError:
        raise LookupError(f"unknown permission target {target!r}; one of {', '.join(TARGET_MODELS)}") from None
    if target == "item":
        if (known := _item_project_memo(value)) is not None:
            return [known]
        found = _item_project(value)
    else:
        try:
            found = list(_model(label).objects.filter(**{field: value}).values_list(to_project, flat=True).distinct())
        except (TypeError, ValueError, OverflowError, ValidationError):
            return []
    if target == "item" and len(found) == 1 and connection.vendor == "postgresql":
        if len(_ITEM_PROJECT) >= _ITEM_PROJECT_MAX:
            _ITEM_PROJECT.clear()
        _ITEM_PROJECT[int(value)] = found[0]
    return found


def asset_uploaded_by(*, asset_id: int, user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    try:
        return _model("assets.Asset").objects.filter(pk=int(asset_id), uploaded_by=user).exists()
    except (TypeError, ValueError, OverflowError):
        return False
