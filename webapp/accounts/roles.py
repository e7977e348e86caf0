"""Roles are Django groups with permissions. They nest: a reviewer also labels, an admin (or a
superuser) holds every role."""
from __future__ import annotations

OPERATOR = "operator"
REVIEWER = "reviewer"
ADMIN = "admin"
ROLES = (OPERATOR, REVIEWER, ADMIN)

# Permission codenames (app_label.codename) granted to each role.
ROLE_PERMISSIONS = {
    OPERATOR: ["labeling.label_workitem"],
    REVIEWER: ["labeling.label_workitem", "labeling.review_workitem"],
    ADMIN: ["labeling.label_workitem", "labeling.review_workitem", "labeling.manage_project",
            "mlops.promote_modelversion", "mlops.train_modelversion"],
}


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return set(ROLES)
    cached = getattr(user, "_loupe_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if ADMIN in cached:
            cached = set(ROLES)
        elif REVIEWER in cached:
            cached.add(OPERATOR)
        user._loupe_roles = cached
    return cached


def has_role(user, role: str) -> bool:
    return role in user_roles(user)
