"""Registry pages: all scopes, one scope's lineage, a candidate compared with the champion (promote from
there with a reason), and the promotion audit (filterable, CSV). Readable without JavaScript."""
import csv
from collections import OrderedDict
from datetime import datetime, time, timedelta

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone

from webapp.accounts.permissions import requires
from webapp.core.errors import ServiceError
from webapp.core.query_params import query_id
from webapp.mlops import gate, monitoring, plots, selectors, services
from webapp.mlops.models import PromotionAudit

RUNS_SHOWN = 30
AUDIT_PAGE = 200
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
        rows[v.pk] = {"cells": [_cell(overall.get(c)) for c in columns], "slices": slices, "gate": gate_summary(v)}
    return columns, rows


def gate_summary(version) -> dict:
    """The gate's verdict on a version as the pages show it, with whether its golden set was too small to
    decide (fewer golden items than a slice needs, or an overall row the gate could not decide on)."""
    metrics = version.metrics or {}
    items = (metrics.get("golden") or {}).get("items")
    rows = (metrics.get("gate") or {}).get("rows") or []
    too_small = (isinstance(items, int) and items < gate.MIN_ITEMS) or bool(rows and rows[0].get("too_few"))
    label = {"better": "better", "worse": "worse", "not_enough_evidence": "not enough evidence"}
    return {"verdict": version.gate_verdict, "label": label.get(version.gate_verdict, ""), "golden_items": items,
            "too_small": too_small, "min_items": gate.MIN_ITEMS}


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


@requires("model.view")
def scope_page(request):
    kind, scope_key = request.GET.get("kind", "").strip(), request.GET.get("scope", "")
    if not kind:
        return HttpResponseBadRequest("kind: required (e.g. ?kind=catheter&scope=line:A; scope empty = global)")
    return render(request, "mlops/scope.html", {
        "kind": kind, "scope_key": scope_key,
        "lineage": selectors.scope_lineage(kind=kind, scope_key=scope_key),
        "audit": selectors.audit_list(kind=kind, scope_key=scope_key)[:50],
    })


def _compare_context(request, pk: int, **extra):
    # The shared reader: a value that is no id is a 400 naming it (ServiceError), never a database error.
    against_id = query_id(request.GET if request.GET.get("against") else request.POST, "against")
    content = selectors.version_compare(candidate_id=pk, against_id=against_id)
    return None if content is None else {**content, **extra}


def _threshold_context(request, pk: int) -> dict:
    """The threshold section: the one in force, its history, and the operating point asked for."""
    out = {"threshold": selectors.threshold_current(version_id=pk),
           "threshold_history": selectors.threshold_history(version_id=pk)[:10]}
    want = {k: request.GET.get(k, "").strip() for k in ("recall", "precision")}
    asked = {k: v for k, v in want.items() if v}
    if asked:
        key, raw = next(iter(asked.items()))
        try:
            value = float(raw)
            if not 0 < value <= 1:
                raise ValueError
        except ValueError:
            out["point_error"] = f"{key}: a number in (0, 1]"
            return out
        out["point"] = selectors.operating_point(version_id=pk, **{key: value})
        out["point_asked"] = f"{key} >= {value:g}"
    return out


@requires("model.view")
def compare_page(request, pk: int):
    context = _compare_context(request, pk)
    if context is None:
        return HttpResponse("no such version (or an invalid ?against=)", status=404)
    return render(request, "mlops/compare.html", {**context, **_threshold_context(request, pk)})


@requires("model.promote", methods=("POST",))
def threshold_page(request, pk: int):
    """Set the operating threshold from the compare page (reason required); refusals re-show the page."""
    try:
        value = float(request.POST.get("value", ""))
    except ValueError:
        value = None
    try:
        services.threshold_set(version_id=pk, value=value, actor=request.user,
                               reason=request.POST.get("reason", ""), basis=request.POST.get("basis", ""))
    except ServiceError as refused:
        context = _compare_context(request, pk, threshold_error=refused.message)
        if context is None:
            return HttpResponse(refused.message, status=refused.status_code)
        return render(request, "mlops/compare.html", {**context, **_threshold_context(request, pk)},
                      status=refused.status_code)
    return redirect(f"/models/{pk}/compare/?threshold=1#threshold")


@requires("model.promote", methods=("POST",))
def promote_page(request, pk: int):
    """The compare page's promotion form: the reason (and, for a blocked version, the override's second
    reason) go to the same service as the API; a refusal shows the page again with the message."""
    try:
        services.champion_promote(version_id=pk, actor=request.user, reason=request.POST.get("reason", ""),
                                  override=request.POST.get("override") == "on",
                                  override_reason=request.POST.get("override_reason", ""))
    except ServiceError as refused:
        context = _compare_context(request, pk, error=refused.message, form=request.POST)
        if context is None:
            return HttpResponse(refused.message, status=refused.status_code)
        return render(request, "mlops/compare.html", context, status=refused.status_code)
    return redirect(f"/models/{pk}/compare/?promoted=1")


def _day(value: str, end: bool = False):
    if not value:
        return None
    day = datetime.strptime(value, "%Y-%m-%d").date()
    moment = datetime.combine(day, time.min)
    if end:   # "until 2026-11-30" includes that day
        moment = datetime.combine(day.fromordinal(day.toordinal() + 1), time.min)
    return timezone.make_aware(moment, timezone.get_current_timezone())


GLOBAL_SCOPE = "(global)"


def _scope_filter(value: str) -> str | None:
    """Blank or ``*``: any scope; ``(global)``: the kind's global scope (whose key is empty)."""
    value = value.strip()
    return None if value in ("", "*") else ("" if value == GLOBAL_SCOPE else value)


AUDIT_FIELDS = ["id", "created_at", "action", "kind", "scope_key", "from_version", "to_version", "actor", "reason",
                "override", "override_reason"]


def _actor(user) -> str:
    return user.get_username() if user else "system"


def _promotion_rows(a: PromotionAudit) -> list[list]:
    return [[a.pk, a.created_at.isoformat(), a.action, a.kind, a.scope_key,
             a.from_version.number if a.from_version else "", a.to_version.number,
             _actor(a.actor), a.reason, "yes" if a.override else "no", a.override_reason]]


def _threshold_rows(t) -> list[list]:
    v = t.model_version
    return [[t.pk, t.created_at.isoformat(), v.kind, v.scope_key, v.number, t.value, t.basis, _actor(t.actor),
             t.reason]]


def _trigger_rows(change) -> list[list]:
    """One row per changed setting."""
    return [[change.pk, change.created_at.isoformat(), change.project_name, field, old, new, _actor(change.actor),
             change.reason] for field, (old, new) in sorted(change.changes.items())]


# The audit page's three trails, each exportable: (file name, header, the rows of one entry).
AUDIT_TRAILS = {
    "promotions": ("promotion-audit.csv", AUDIT_FIELDS, _promotion_rows),
    "thresholds": ("threshold-audit.csv",
                   ["id", "created_at", "kind", "scope_key", "version", "value", "basis", "actor", "reason"],
                   _threshold_rows),
    "triggers": ("trigger-audit.csv", ["id", "created_at", "project", "field", "old", "new", "actor", "reason"],
                 _trigger_rows),
}


def _audit_csv(trail: str, entries) -> HttpResponse:
    name, header, rows = AUDIT_TRAILS[trail]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for entry in entries.iterator():
        writer.writerows(rows(entry))
    return response


@requires("model.view", api_token=True)  # its CSV trails are downloads a script may fetch
def audit_page(request):
    q = request.GET
    try:
        filters = {"kind": q.get("kind") or None, "action": q.get("action") or None, "actor": q.get("actor") or None,
                   "scope_key": _scope_filter(q.get("scope", "")),
                   "override": {"yes": True, "no": False}.get(q.get("override", "")),
                   "since": _day(q.get("since", "")), "until": _day(q.get("until", ""), end=True)}
    except ValueError:
        return HttpResponseBadRequest("since / until: dates as YYYY-MM-DD")
    if filters["action"] and filters["action"] not in PromotionAudit.Action.values:
        return HttpResponseBadRequest(f"action: one of {', '.join(PromotionAudit.Action.values)}")
    entries = selectors.audit_list(**filters)
    thresholds = selectors.threshold_change_list(kind=filters["kind"], scope_key=filters["scope_key"])
    triggers = selectors.trigger_change_list()
    if q.get("format") == "csv":
        trail = q.get("trail", "promotions")
        if trail not in AUDIT_TRAILS:
            return HttpResponseBadRequest(f"trail: one of {', '.join(AUDIT_TRAILS)}")
        return _audit_csv(trail, {"promotions": entries, "thresholds": thresholds, "triggers": triggers}[trail])
    kept = q.copy()
    kept.pop("trail", None)
    kept.pop("format", None)
    return render(request, "mlops/audit.html", {
        "entries": entries[:AUDIT_PAGE], "query": q, "shown": AUDIT_PAGE, "csv_query": kept.urlencode(),
        "thresholds": thresholds[:50], "triggers": triggers[:50],
        "kinds": sorted({k for k, _ in selectors.scope_list()}), "actions": PromotionAudit.Action.values,
    })


MONITOR_DAYS = (1, 7, 30, 90)


@requires("model.view")
def monitoring_page(request):
    """The loop at a glance: queues, operators, whether promotions cut the corrections, OOD share, workers."""
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 0
    if days not in MONITOR_DAYS:
        return HttpResponseBadRequest(f"days: one of {', '.join(map(str, MONITOR_DAYS))}")
    now = timezone.now()
    since = now - timedelta(days=days)
    timelines = []
    for row in monitoring.queue_overview():
        project = row["project"]
        edits = monitoring.edits_per_day(project=project, since=since)
        timelines.append({"project": project, **edits,
                          "learning": monitoring.learning_curve(project=project, since=since),
                          "plot": plots.edits_timeline(edits["series"], edits["promotions"],
                                                       f"edits per revision, {project.name}", since, now)})
    return render(request, "mlops/monitoring.html", {
        "days": days, "choices": MONITOR_DAYS, "queues": monitoring.queue_overview(),
        "block": monitoring.LEARNING_BLOCK,
        "throughput": monitoring.operator_throughput(since=since), "timelines": timelines,
        "ood": monitoring.ood_share(since=since),
        "workers": monitoring.workers_now(now=now), "heartbeat_s": settings.LOUPE_WORKER_HEARTBEAT_SECONDS,
    })


# ---- training: the projects' triggers, one run's live page ------------------------------------------------
def _training_context(**extra) -> dict:
    return {"projects": selectors.training_triggers_list(), "changes": selectors.trigger_change_list()[:50],
            "runs": selectors.run_list()[:RUNS_SHOWN], **extra}


@requires("training.view")
def training_page(request):
    return render(request, "mlops/training.html", _training_context())


def _whole(value: str, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ServiceError(f"{field}: a whole number", details={"field": field}) from None


@requires("training.manage", methods=("POST",))
def training_triggers_page(request):
    """The training page's form for one project: N, T and auto-promote, audited with the reason."""
    post = request.POST
    try:
        project_id = _whole(post.get("project", ""), "project")
        services.training_triggers_update(
            project_id=project_id, actor=request.user, reason=post.get("reason", ""),
            train_after_corrections=_whole(post.get("train_after_corrections", ""), "train_after_corrections"),
            train_after_minutes=_whole(post.get("train_after_minutes", ""), "train_after_minutes"),
            auto_promote=post.get("auto_promote") == "on")
    except ServiceError as refused:
        return render(request, "mlops/training.html",
                      _training_context(error=refused.message, error_project=post.get("project")),
                      status=refused.status_code)
    return redirect(f"/models/training/?saved={project_id}#project-{project_id}")


@requires("training.view")
def training_run_page(request, pk: int):
    """One run: state, progress, ETA, the loss curve (live over the WebSocket while it runs), its log."""
    run = selectors.run_list().filter(pk=pk).first()
    if run is None:
        return HttpResponse("no such training run", status=404)
    return render(request, "mlops/training_run.html", {
        "run": run, "active": run.state in services.ACTIVE_RUN_STATES,
        "loss_plot": plots.loss_curve(run.loss_curve) if run.loss_curve else None,
    })


@requires("training.manage", methods=("POST",))
def training_run_cancel_page(request, pk: int):
    try:
        services.training_run_cancel(run_id=pk, actor=request.user)
    except ServiceError as refused:
        return HttpResponse(refused.message, status=refused.status_code)
    return redirect(f"/models/training-runs/{pk}/?cancel=1")
