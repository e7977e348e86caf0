"""Registry reads: versions of a scope, the champion, runs, the audit trail."""
from __future__ import annotations

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
