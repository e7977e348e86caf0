"""Roles. ``admin`` is global: an admin (or a superuser) holds it in every project. ``operator`` and
``reviewer`` are held per project, through a membership (``ProjectMembership``); a signed-in user
without one has the role ``none`` there and sees nothing of the project.

An account's group (operator / reviewer) is only its default project role: the role it gets when
added to a project without naming one. It grants nothing by itself.
"""
from __future__ import annotations

NONE = "none"
OPERATOR = "operator"
REVIEWER = "reviewer"
ADMIN = "admin"
ROLES = (OPERATOR, REVIEWER, ADMIN)
PROJECT_ROLES = (OPERATOR, REVIEWER)
# Weakest first: a user holding several memberships has the strongest of them as global role.
RANK = {NONE: 0, OPERATOR: 1, REVIEWER: 2, ADMIN: 3}

# Django permission codenames given to each role's group (for the Django admin site only; the
# permission table in ``webapp.accounts.permissions`` decides everything else).
ROLE_PERMISSIONS = {
    OPERATOR: ["labeling.label_workitem"],
    REVIEWER: ["labeling.label_workitem", "labeling.review_workitem"],
    ADMIN: ["labeling.label_workitem", "labeling.review_workitem", "labeling.manage_project",
            "mlops.promote_modelversion", "mlops.train_modelversion"],
}


def is_admin(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_loupe_is_admin", None)
    if cached is None:
        cached = user.groups.filter(name=ADMIN).exists()
        user._loupe_is_admin = cached
    return cached


def default_project_role(user) -> str | None:
    """The role an account gets when added to a project without naming one (its group), if any."""
    names = set(user.groups.filter(name__in=PROJECT_ROLES).values_list("name", flat=True))
    return REVIEWER if REVIEWER in names else OPERATOR if OPERATOR in names else None
