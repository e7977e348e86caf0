from webapp.accounts.roles import user_roles


def roles(request):
    found = user_roles(getattr(request, "user", None))
    return {"user_roles": sorted(found), "is_reviewer": "reviewer" in found, "is_admin": "admin" in found}
