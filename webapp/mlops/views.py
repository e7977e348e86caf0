"""The registry page: versions per scope with golden-set metrics, champion, promote / roll back, and the
training runs with live progress."""
from collections import OrderedDict

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from webapp.accounts.roles import ADMIN, has_role
from webapp.mlops import selectors

RUNS_SHOWN = 30


@login_required
def registry_page(request):
    if not has_role(request.user, ADMIN):
        raise PermissionDenied("The model registry is for admins.")
    champions = selectors.champion_ids()
    scopes: "OrderedDict[tuple[str, str], list]" = OrderedDict()
    for version in selectors.version_list():
        scopes.setdefault((version.kind, version.scope_key), []).append(version)
    return render(request, "mlops/registry.html", {
        "scopes": [{"kind": k, "scope_key": s, "versions": v} for (k, s), v in scopes.items()],
        "champions": champions,
        "runs": selectors.run_list()[:RUNS_SHOWN],
        "audit": selectors.audit_list()[:20],
    })
