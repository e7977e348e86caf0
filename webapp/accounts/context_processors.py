from webapp.accounts.permissions import can, roles_held


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": [], "is_admin": False, "is_reviewer": False, "can_view_models": False}
    held = roles_held(user)
    # ``is_reviewer``: reviewer somewhere. A page about one project overrides it with the role there.
    return {"user_roles": sorted(held), "is_admin": "admin" in held, "is_reviewer": "reviewer" in held,
            "can_view_models": can(user, "model.view")}
