"""The registry page: versions per scope with golden-set metrics, champion, promote / roll back, and the
training runs with live progress."""
from collections import OrderedDict

from django.shortcuts import render

from webapp.accounts.permissions import requires
from webapp.mlops import selectors

RUNS_SHOWN = 30


@requires("model.view")
def registry_page(request):
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
