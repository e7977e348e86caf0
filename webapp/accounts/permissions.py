"""DRF permission classes by role."""
from rest_framework.permissions import BasePermission

from webapp.accounts.roles import ADMIN, OPERATOR, REVIEWER, has_role


class _RolePermission(BasePermission):
    role = ""
    message = ""

    def has_permission(self, request, view):
        return has_role(request.user, self.role)


class IsOperator(_RolePermission):
    role = OPERATOR
    message = "This needs the operator role."


class IsReviewer(_RolePermission):
    role = REVIEWER
    message = "Reviewing needs the reviewer role."


class IsAdmin(_RolePermission):
    role = ADMIN
    message = "This needs the admin role."
