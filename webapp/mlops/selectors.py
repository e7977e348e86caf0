"""Registry reads: versions of a scope, the champion, runs, the audit trail."""
from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from webapp.labeling.models import Project
from webapp.mlops.models import (
    ChampionAlias, ModelVersion, OperatingThreshold, PromotionAudit, TrainingRun, TriggerChange,
)


def champion_get(*, kind: str, scope_key: str, fallback_to_global: bool = True) -> ModelVersion | None:
    """The scope's champion; an unknown scope falls back to the kind's global model (scope '')."""
    alias = ChampionAlias.objects.filter(kind=kind, scope_key=scope_key).select_related("model_version").first()
    if alias is None and fallback_to_global and scope_key:
        alias = ChampionAlias.objects.filter(kind=kind, scope_key="").select_related("model_version").first()
    return alias.model_version if alias else None


def version_of_mode(*, kind: str, scope_key: str, mode: str) -> ModelVersion | None:
    """The scope's first version registered with this ``config["mode"]`` (e.g. the model-free one)."""
    return ModelVersion.objects.filter(kind=kind, scope_key=scope_key, config__mode=mode).order_by("number").first()


def champion_ids() -> set[int]:
    return set(ChampionAlias.objects.values_list("model_version_id", flat=True))


def version_list(*, kind: str | None = None, scope_key: str | None = None) -> QuerySet[ModelVersion]:
    qs = ModelVersion.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    if scope_key is not None:
        qs = qs.filter(scope_key=scope_key)
    return qs.order_by("kind", "scope_key", "-number")


def run_list(*, kind: str | None = None, state: str | None = None) -> QuerySet[TrainingRun]:
    qs = TrainingRun.objects.select_related("candidate", "base_version", "project")
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-id")


def audit_list(*, kind: str | None = None, scope_key: str | None = None, action: str | None = None,
               actor: str | None = None, override: bool | None = None, since=None, until=None
               ) -> QuerySet[PromotionAudit]:
    """The promotion audit, newest first, filtered by what is given (``since``/``until``: datetimes)."""
    qs = PromotionAudit.objects.select_related("from_version", "to_version", "actor")
    if kind:
        qs = qs.filter(kind=kind)
    if scope_key is not None:
        qs = qs.filter(scope_key=scope_key)
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor__username=actor) if actor != "system" else qs.filter(actor__isnull=True)
    if override is not None:
        qs = qs.filter(override=override)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by("-id")


def scope_list() -> list[tuple[str, str]]:
    return list(ModelVersion.objects.order_by("kind", "scope_key").values_list("kind", "scope_key").distinct())


def scope_lineage(*, kind: str, scope_key: str) -> list[dict]:
    """Every version of a scope, newest first, with where it came from: the parent it was fine-tuned
    from, the training run and its trigger, the data snapshot, how many corrections it learned from."""
    champion = champion_get(kind=kind, scope_key=scope_key, fallback_to_global=False)
    versions = list(ModelVersion.objects.filter(kind=kind, scope_key=scope_key)
                    .select_related("training_run", "training_run__requested_by").order_by("-number"))
    numbers = {v.pk: v.number for v in versions}
    rows = []
    for v in versions:
        run = v.training_run
        params = (run.params if run else {}) or {}
        parent = (v.config or {}).get("parent")
        primary = (v.metrics or {}).get("primary")
        rows.append({
            "version": v, "is_champion": champion is not None and champion.pk == v.pk,
            "parent_id": parent, "parent_number": numbers.get(parent),
            "run": run, "trigger": run.trigger if run else None, "mode": (v.config or {}).get("mode"),
            "requested_by": run.requested_by.get_username() if run and run.requested_by else None,
            "data_snapshot_id": v.data_snapshot_id, "n_corrections": params.get("n_new"),
            "n_replay": params.get("n_replay"), "primary": primary,
            "primary_value": ((v.metrics or {}).get("overall") or {}).get(primary) if primary else None,
        })
    return rows


# ---- compare: a candidate against the champion --------------------------------------------------------

COMPARE_CACHE_SECONDS = 7 * 24 * 3600   # versions are immutable: a pair's comparison never goes stale


def version_get(*, version_id: int) -> ModelVersion | None:
    return ModelVersion.objects.select_related("training_run").filter(pk=version_id).first()


def _against_figures(candidate: ModelVersion, against: ModelVersion) -> tuple[dict, list[str]]:
    """The other side's golden-set figures: the champion's evaluation stored with the candidate (same
    golden set, same time) when it is that version, else the version's own evaluation."""
    stored = (candidate.metrics or {}).get("champion") or {}
    if stored.get("version") == against.pk:
        return stored, []
    return (against.metrics or {}), [f"v{against.number} was not evaluated alongside v{candidate.number}: its "
                                     "own golden-set figures are shown (the golden set may have changed since)"]


def version_compare(*, candidate_id: int, against_id: int | None = None) -> dict | None:
    """The compare page's content for a candidate against ``against_id`` (default: the scope's champion):
    per-slice rows with differences and bootstrap intervals, the gate's verdict, disagreeing golden items,
    plots as inline SVG. Cached per version pair (both immutable)."""
    from django.conf import settings
    from django.core.cache import cache

    from webapp.mlops import comparison, plots

    candidate = version_get(version_id=candidate_id)
    if candidate is None:
        return None
    if against_id is None:
        champion = champion_get(kind=candidate.kind, scope_key=candidate.scope_key, fallback_to_global=False)
        against_id = champion.pk if champion is not None and champion.pk != candidate.pk else None
    against = version_get(version_id=against_id) if against_id else None
    # A version never changes, but an id can come back (a database restored or reset): the creation time
    # makes the key name one version for good.
    key = "mlops:compare:v3:" + ":".join(f"{v.pk}@{v.created_at.timestamp():.6f}" if v else "-"
                                         for v in (candidate, against))
    cached = cache.get(key)
    if cached is not None:
        return {**cached, "candidate": candidate, "against": against}
    margin = float(settings.LOUPE_GATE_MARGIN)
    cand_figures = candidate.metrics or {}
    warnings = list(((cand_figures.get("gate") or {}).get("warnings")) or [])
    against_figures = None
    if against is not None:
        against_figures, more = _against_figures(candidate, against)
        warnings += more
    if not cand_figures.get("items"):
        warnings.append("per-item golden results are not stored for this version: intervals come from the slice "
                        "sizes, and disagreeing items and precision-recall curves cannot be shown")
    result = comparison.version_comparison(cand_figures, against_figures, margin)
    primary = result["primary"] or "metric"
    curves = {"candidate": comparison.threshold_curve(cand_figures),
              "champion": comparison.threshold_curve(against_figures)}
    content = {
        "comparison": result, "warnings": warnings,
        "too_small": [r["slice"] for r in result["rows"] if r["too_few"]],
        "gate": {"promotable": candidate.promotable, "verdict": candidate.gate_verdict,
                 "reasons": list(candidate.blocked_reasons or []),
                 "stored": {k: v for k, v in (cand_figures.get("gate") or {}).items() if k != "rows"}},
        "golden": cand_figures.get("golden") or {},
        "curve": {"available": curves["candidate"] is not None,
                  "name": (cand_figures.get("threshold_curve") or {}).get("name") or "score",
                  "points": comparison.operating_points(cand_figures)},
        "plots": {
            "slices": plots.slice_bars(result["rows"], primary),
            "pr": plots.pr_curves(curves),
            "confusion": plots.confusion_matrix(comparison.confusion(cand_figures.get("items"))),
            "loss": plots.loss_curve(((cand_figures.get("training") or {}).get("loss_curve"))),
        },
    }
    cache.set(key, content, COMPARE_CACHE_SECONDS)
    return {**content, "candidate": candidate, "against": against}


def threshold_current(*, version_id: int) -> OperatingThreshold | None:
    """The operating threshold in force for a version (None: the checkpoint's own)."""
    return OperatingThreshold.objects.filter(model_version_id=version_id).select_related("actor").first()


def threshold_history(*, version_id: int) -> QuerySet[OperatingThreshold]:
    return OperatingThreshold.objects.filter(model_version_id=version_id).select_related("actor").order_by("-id")


def threshold_change_list(*, kind: str | None = None, scope_key: str | None = None) -> QuerySet[OperatingThreshold]:
    """Every operating-threshold change, newest first (the audit page's second trail)."""
    qs = OperatingThreshold.objects.select_related("actor", "model_version")
    if kind:
        qs = qs.filter(model_version__kind=kind)
    if scope_key is not None:
        qs = qs.filter(model_version__scope_key=scope_key)
    return qs.order_by("-id")


def operating_point(*, version_id: int, recall: float | None = None, precision: float | None = None) -> dict | None:
    """The threshold on the version's golden-set precision-recall curve that meets a required recall (the
    highest such threshold) or a required precision (the lowest), with the precision and recall there.
    None when the version stored no per-item scores, or when no threshold meets the requirement."""
    from webapp.mlops import comparison

    version = ModelVersion.objects.filter(pk=version_id).only("metrics").first()
    curve = comparison.threshold_curve(version.metrics if version else None)
    if curve is None:
        return None
    precisions, recalls, thresholds = curve
    points = list(zip(thresholds, precisions, recalls))
    if recall is not None:   # the highest threshold that still finds enough
        meets = [p for p in points if p[2] >= recall]
        hit = max(meets, key=lambda p: (p[0], p[1])) if meets else None
    else:                    # the most found among the thresholds precise enough (the lowest such threshold)
        meets = [p for p in points if p[1] >= precision]
        hit = max(meets, key=lambda p: (p[2], -p[0])) if meets else None
    if hit is None:
        return None
    return {"threshold": round(hit[0], 5), "precision": round(hit[1], 4), "recall": round(hit[2], 4),
            "basis": f"recall >= {recall:g}" if recall is not None else f"precision >= {precision:g}"}


# ---- training runs, as the workers' loop reads them -----------------------------------------------------
_ACTIVE = (TrainingRun.State.QUEUED, TrainingRun.State.RUNNING)


def training_run_get(*, run_id: int) -> TrainingRun | None:
    return TrainingRun.objects.filter(pk=run_id).first()


def training_run_watermark(*, kind: str, scope_key: str) -> dict:
    """What the scope's last successful run took: its data cutoff time and the revisions it used."""
    run = (TrainingRun.objects.filter(kind=kind, scope_key=scope_key, state=TrainingRun.State.SUCCEEDED)
           .order_by("-id").only("params").first())
    params = (run.params or {}) if run else {}
    return {"cutoff": params.get("cutoff"), "used": params.get("used_revisions", [])}


def training_run_is_active(*, kind: str, scope_key: str) -> bool:
    """A run of the scope is queued or running."""
    return TrainingRun.objects.filter(kind=kind, scope_key=scope_key, state__in=_ACTIVE).exists()


def training_run_bootstrap_failed_since(*, kind: str, scope_key: str, since: datetime) -> bool:
    return TrainingRun.objects.filter(kind=kind, scope_key=scope_key, trigger="bootstrap",
                                      state=TrainingRun.State.FAILED, finished_at__gte=since).exists()


def training_run_cancel_requested(*, run_id: int) -> bool:
    return TrainingRun.objects.filter(pk=run_id, cancel_requested=True).exists()


def training_run_list_running() -> list[TrainingRun]:
    return list(TrainingRun.objects.filter(state=TrainingRun.State.RUNNING).order_by("id"))


def training_run_list_queued(*, created_before: datetime) -> list[TrainingRun]:
    return list(TrainingRun.objects.filter(state=TrainingRun.State.QUEUED, created_at__lte=created_before)
                .order_by("id"))


# ---- training triggers per project ------------------------------------------------------------------------------
def training_triggers_list() -> list[Project]:
    """Every project with the settings that start its scope's training runs."""
    return list(Project.objects.order_by("name").only("id", "name", "slug", "kind", "scope_key",
                                                       "train_after_corrections", "train_after_minutes",
                                                       "auto_promote"))


def trigger_change_list(*, project_id: int | None = None) -> QuerySet[TriggerChange]:
    qs = TriggerChange.objects.select_related("actor")
    return (qs.filter(project_id=project_id) if project_id is not None else qs).order_by("-id")
