"""Registry reads: versions of a scope, the champion, runs, the audit trail."""
from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from webapp.mlops.models import ChampionAlias, ModelVersion, PromotionAudit, TrainingRun


def champion_get(*, kind: str, scope_key: str, fallback_to_global: bool = True) -> ModelVersion | None:
    """The scope's champion; an unknown scope falls back to the kind's global model (scope '')."""
    alias = ChampionAlias.objects.filter(kind=kind, scope_key=scope_key).select_related("model_version").first()
    if alias is None and fallback_to_global and scope_key:
        alias = ChampionAlias.objects.filter(kind=kind, scope_key="").select_related("model_version").first()
    return alias.model_version if alias else None


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


def audit_list(*, kind: str | None = None) -> QuerySet[PromotionAudit]:
    qs = PromotionAudit.objects.select_related("from_version", "to_version", "actor")
    return qs.filter(kind=kind) if kind else qs


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
