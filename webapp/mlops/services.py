"""Registry writes: register versions, move the champion alias (promote / roll back), training runs."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from webapp.accounts.permissions import can
from webapp.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from webapp.core.tasks import enqueue
from webapp.mlops.models import ChampionAlias, ModelVersion, PromotionAudit, TrainingRun
from webapp.labeling.models import Project
from webapp.realtime.events import MLOPS_GROUP, project_group, publish

ACTIVE_RUN_STATES = (TrainingRun.State.QUEUED, TrainingRun.State.RUNNING)


def _version_json(v: ModelVersion | None) -> dict | None:
    return None if v is None else {"id": v.pk, "kind": v.kind, "scope_key": v.scope_key, "number": v.number}


@transaction.atomic
def model_version_register(*, kind: str, scope_key: str, artifact_uri: str, config: dict | None = None,
                           digest: str = "", data_snapshot_id: str = "", metrics: dict | None = None,
                           promotable: bool = True, blocked_reasons: list | None = None,
                           training_run_id: int | None = None) -> ModelVersion:
    """Register an immutable version with the next number of its scope."""
    for _ in range(5):
        number = (ModelVersion.objects.filter(kind=kind, scope_key=scope_key).aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                version = ModelVersion.objects.create(
                    kind=kind, scope_key=scope_key, number=number, artifact_uri=artifact_uri, config=config or {},
                    digest=digest, data_snapshot_id=data_snapshot_id, metrics=metrics or {}, promotable=promotable,
                    blocked_reasons=blocked_reasons or [], training_run_id=training_run_id)
            break
        except IntegrityError:
            continue
    else:
        raise Conflict("could not allocate a version number; try again")
    publish(MLOPS_GROUP, "model.registered", {**_version_json(version), "promotable": promotable,
                                              "metrics": version.metrics})
    return version


def _require_reason(reason: str, action: str) -> None:
    # Moving a champion changes what every operator sees next: the audit trail must say why, whoever
    # (or whatever page) asked for it.
    if not (reason or "").strip():
        raise ServiceError(f"{action} needs a reason (it is written to the audit trail)")


def _move_champion(*, version: ModelVersion, actor, action: str, reason: str, override: bool) -> PromotionAudit:
    alias = ChampionAlias.objects.select_for_update().filter(kind=version.kind, scope_key=version.scope_key).first()
    previous = alias.model_version if alias else None
    if previous is not None and previous.pk == version.pk:
        raise Conflict(f"{version} is the champion already")
    if alias is None:
        ChampionAlias.objects.create(kind=version.kind, scope_key=version.scope_key, model_version=version)
    else:
        alias.model_version = version
        alias.save(update_fields=["model_version", "updated_at"])
    audit = PromotionAudit.objects.create(kind=version.kind, scope_key=version.scope_key, action=action,
                                          from_version=previous, to_version=version, actor=actor, reason=reason,
                                          override=override)
    payload = {"kind": version.kind, "scope_key": version.scope_key, "from": _version_json(previous),
               "to": _version_json(version), "actor": actor.get_username() if actor else None, "reason": reason}
    publish(MLOPS_GROUP, {"promote": "model.promoted", "rollback": "model.rolled_back"}[action], payload)
    # The scope's projects hear it too: an open item page offers the new champion's proposal once the
    # re-scoring below delivers it (as a prediction.created event).
    for project_id in Project.objects.filter(kind=version.kind, scope_key=version.scope_key).values_list("pk", flat=True):
        publish(project_group(project_id), "champion.changed", {**payload, "action": action, "project": project_id})
    # Workers reload the champion and re-score the scope's unaccepted items.
    enqueue("loupe.infer.champion_changed", version.kind, version.scope_key, version.pk)
    return audit


@transaction.atomic
def champion_promote(*, version_id: int, actor, reason: str, override: bool = False) -> PromotionAudit:
    if actor is not None and not can(actor, "model.promote"):
        raise NotAllowed("promoting a model needs the admin role")
    _require_reason(reason, "promoting a model")
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFound(f"no model version {version_id}")
    if not version.promotable and not override:
        raise Conflict(f"{version} regresses on the golden set and is not promotable: "
                       f"{'; '.join(map(str, version.blocked_reasons)) or 'gate failed'}. "
                       "Promote with override and a reason to proceed.",
                       details={"blocked_reasons": version.blocked_reasons})
    return _move_champion(version=version, actor=actor, action=PromotionAudit.Action.PROMOTE, reason=reason,
                          override=override and not version.promotable)


@transaction.atomic
def champion_rollback(*, kind: str, scope_key: str, actor, reason: str,
                      to_version_id: int | None = None) -> PromotionAudit:
    """Move the champion back: to ``to_version_id``, or to the version it replaced last time."""
    if actor is not None and not can(actor, "model.promote"):
        raise NotAllowed("rolling back needs the admin role")
    _require_reason(reason, "rolling back")
    alias = ChampionAlias.objects.filter(kind=kind, scope_key=scope_key).select_related("model_version").first()
    if alias is None:
        raise NotFound(f"{kind}/{scope_key or 'global'} has no champion to roll back")
    if to_version_id is not None:
        target = ModelVersion.objects.filter(pk=to_version_id, kind=kind, scope_key=scope_key).first()
        if target is None:
            raise NotFound(f"no version {to_version_id} in {kind}/{scope_key or 'global'}")
    else:
        last = (PromotionAudit.objects.filter(kind=kind, scope_key=scope_key, to_version=alias.model_version,
                                              from_version__isnull=False).order_by("-id").first())
        if last is None:
            raise Conflict("there is no earlier champion to roll back to")
        target = last.from_version
    return _move_champion(version=target, actor=actor, action=PromotionAudit.Action.ROLLBACK, reason=reason,
                          override=False)


def training_run_request(*, kind: str, scope_key: str, project_id: int | None, actor=None, trigger: str = "manual",
                         params: dict | None = None) -> TrainingRun:
    """Queue a training run for the scope; refused while one is queued or running (one run per scope)."""
    if actor is not None and not can(actor, "training.manage"):
        raise NotAllowed("starting a training run needs the admin role")
    try:
        with transaction.atomic():
            run = TrainingRun.objects.create(kind=kind, scope_key=scope_key, project_id=project_id, trigger=trigger,
                                             params=params or {}, requested_by=actor)
            enqueue("loupe.train.run_training", run.pk)
    except IntegrityError:
        active = TrainingRun.objects.filter(kind=kind, scope_key=scope_key, state__in=ACTIVE_RUN_STATES).first()
        raise Conflict(f"a training run is already {active.state if active else 'active'} for this scope",
                       details={"run": active.pk if active else None}) from None
    publish(MLOPS_GROUP, "training.queued", {"run": run.pk, "kind": kind, "scope_key": scope_key, "trigger": trigger})
    return run


@transaction.atomic
def training_run_cancel(*, run_id: int, actor) -> TrainingRun:
    if actor is not None and not can(actor, "training.manage"):
        raise NotAllowed("cancelling a training run needs the admin role")
    run = TrainingRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"no training run {run_id}")
    if run.state not in ACTIVE_RUN_STATES:
        raise Conflict(f"run {run.pk} is {run.state}; only queued or running runs can be cancelled")
    run.cancel_requested = True
    fields = ["cancel_requested"]
    if run.state == TrainingRun.State.QUEUED:
        run.state, run.finished_at = TrainingRun.State.CANCELLED, timezone.now()
        fields += ["state", "finished_at"]
    run.save(update_fields=fields)
    publish(MLOPS_GROUP, "training.cancel_requested", {"run": run.pk, "state": run.state})
    return run


def training_run_update(*, run_id: int, only_if_state: str | None = None, **fields) -> int:
    """Progress and state updates from the worker (plain field values). With ``only_if_state`` the update
    happens only while the run is in that state (e.g. a run the sweep already marked failed stays so).
    Returns the number of runs updated (0 or 1)."""
    qs = TrainingRun.objects.filter(pk=run_id)
    if only_if_state is not None:
        qs = qs.filter(state=only_if_state)
    return qs.update(**fields)
