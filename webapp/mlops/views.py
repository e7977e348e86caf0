"""The registry page: versions per scope with golden-set metrics, champion, promote / roll back, and the
training runs with live progress."""
from collections import OrderedDict

from django.shortcuts import render

from webapp.accounts.permissions import requires
from webapp.mlops import selectors

RUNS_SHOWN = 30
MAX_METRIC_COLUMNS = 8


def _cell(value) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def metric_table(versions: list) -> tuple[list[str], dict[int, dict]]:
    """The golden-set figures of a scope's versions as a table: one column per overall metric (the gate's
    primary one first), and each slice's primary figure. Returns (columns, {version id: {"cells", "slices"}})."""
    columns: list[str] = []
    primaries = [v.metrics.get("primary") for v in versions if v.metrics.get("primary")]
    if primaries:
        columns.append(primaries[0])
    for v in versions:
        overall = v.metrics.get("overall") or {}
        columns += [k for k in overall if k not in columns and not isinstance(overall[k], (dict, list))]
    columns = columns[:MAX_METRIC_COLUMNS]
    rows = {}
    for v in versions:
        overall, primary = v.metrics.get("overall") or {}, v.metrics.get("primary")
        slices = [(name, _cell(values.get(primary)) if primary else "—")
                  for name, values in sorted((v.metrics.get("slices") or {}).items()) if isinstance(values, dict)]
        rows[v.pk] = {"cells": [_cell(overall.get(c)) for c in columns], "slices": slices}
    return columns, rows


@requires("model.view")
def registry_page(request):
    champions = selectors.champion_ids()
    scopes: "OrderedDict[tuple[str, str], list]" = OrderedDict()
    for version in selectors.version_list():
        scopes.setdefault((version.kind, version.scope_key), []).append(version)
    tables = []
    for (kind, scope_key), versions in scopes.items():
        columns, rows = metric_table(versions)
        tables.append({"kind": kind, "scope_key": scope_key, "columns": columns,
                       "versions": [(v, rows[v.pk]) for v in versions]})
    return render(request, "mlops/registry.html", {
        "scopes": tables,
        "champions": champions,
        "runs": selectors.run_list()[:RUNS_SHOWN],
        "audit": selectors.audit_list()[:20],
    })
