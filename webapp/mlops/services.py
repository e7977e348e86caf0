"""Registry writes: register versions, move the champion alias (promote / roll back), training runs."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from webapp.accounts.permissions import can
from webapp.core import tasknames
from webapp.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from webapp.core.tasks import enqueue
from webapp.labeling.kinds import get_kind
from webapp.labeling.models import Project
from webapp.mlops.models import (
    ChampionAlias, ModelVersion, OperatingThreshold, PromotionAudit, TrainingRun, TriggerChange, WorkerHeartbeat,
)
from webapp.realtime.events import MLOPS_GROUP, project_group, publish

log = logging.getLogger(__name__)

ACTIVE_RUN_STATES = (TrainingRun.State.QUEUED, TrainingRun.State.RUNNING)


def _version_json(v: ModelVersion | None) -> dict | None:
    return None if v is None else {"id": v.pk, "kind": v.kind, "scope_key": v.scope_key, "number": v.number}


@transaction.atomic
def model_version_register(*, kind: str, scope_key: str, artifact_uri: str, config: dict | None = None,
                           digest: str = "", data_snapshot_id: str = "", metrics: dict | None = None,
                           promotable: bool = True, blocked_reasons: list | None = None,
                           gate_verdict: str = "", training_run_id: int | None = None) -> ModelVersion:
    """Register an immutable version with the next number of its scope. ``gate_verdict``: the gate's
    verdict against the champion of the time (``webapp.mlops.gate``), empty for a first model."""
    for _ in range(5):
        number = (ModelVersion.objects.filter(kind=kind, scope_key=scope_key).aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                version = ModelVersion.objects.create(
                    kind=kind, scope_key=scope_key, number=number, artifact_uri=artifact_uri, config=config or {},
                    digest=digest, data_snapshot_id=data_snapshot_id, metrics=metrics or {}, promotable=promotable,
                    blocked_reasons=blocked_reasons or [], gate_verdict=gate_verdict,
                    training_run_id=training_run_id)
            break
        except IntegrityError:
            continue
    else:
        raise Conflict("could not allocate a version number; try again")
    publish(MLOPS_GROUP, "model.registered", {**_version_json(version), "promotable": promotable,
                                              "gate_verdict": gate_verdict, "metrics": version.metrics})
    champion = (version.metrics or {}).get("champion") or {}
    if champion.get("version"):
        transaction.on_commit(lambda: _warm_comparison(version.pk, champion["version"]))
    return version


def _warm_comparison(version_id: int, champion_id: int) -> None:
    """Compute the candidate-against-champion comparison (bootstrap, plots) once, where the version is
    registered, so the admin's first look at the compare page is served from the cache."""
    from webapp.mlops.selectors import version_compare

    try:
        version_compare(candidate_id=version_id, against_id=champion_id)
    except Exception:   # a cold cache is slower, never wrong: registration does not depend on this
        log.exception("warming the comparison of version %s failed", version_id)


def _require_reason(reason: str, action: str) -> None:
    # Moving a champion changes what every operator sees next: the audit trail must say why, whoever
    # (or whatever page) asked for it.
    if not (reason or "").strip():
        raise ServiceError(f"{action} needs a reason (it is written to the audit trail)")


def _move_champion(*, version: ModelVersion, actor, action: str, reason: str, override: bool,
                   override_reason: str = "") -> PromotionAudit:
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
                                          override=override, override_reason=override_reason)
    payload = {"kind": version.kind, "scope_key": version.scope_key, "from": _version_json(previous),
               "to": _version_json(version), "actor": actor.get_username() if actor else None, "reason": reason}
    publish(MLOPS_GROUP, {"promote": "model.promoted", "rollback": "model.rolled_back"}[action], payload)
    # The scope's projects hear it too: an open item page offers the new champion's proposal once the
    # re-scoring below delivers it (as a prediction.created event).
    project_ids = Project.objects.filter(kind=version.kind, scope_key=version.scope_key).values_list("pk", flat=True)
    for project_id in project_ids:
        publish(project_group(project_id), "champion.changed", {**payload, "action": action, "project": project_id})
    # Workers reload the champion and re-score the scope's unaccepted items.
    enqueue(tasknames.CHAMPION_CHANGED, version.kind, version.scope_key, version.pk)
    return audit


@transaction.atomic
def champion_promote(*, version_id: int, actor, reason: str, override: bool = False,
                     override_reason: str = "") -> PromotionAudit:
    """Make a version its scope's champion. A version the gate did not pass (verdict ``worse``, or ``not
    enough evidence``) needs ``override`` and a second, separate reason saying why it is acceptable; both
    reasons are audited."""
    if actor is not None and not can(actor, "model.promote"):
        raise NotAllowed("promoting a model needs the admin role")
    _require_reason(reason, "promoting a model")
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFound(f"no model version {version_id}")
    blocked = "; ".join(map(str, version.blocked_reasons)) or "gate failed"
    if not version.promotable and not override:
        judged = ("the golden set cannot tell it is better (not enough evidence)"
                  if version.gate_verdict == "not_enough_evidence" else "it regresses on the golden set")
        raise Conflict(f"{version} is not promotable: {judged}: {blocked}. "
                       "Promote with override and a second reason (override_reason) to proceed.",
                       details={"blocked_reasons": version.blocked_reasons, "gate_verdict": version.gate_verdict})
    overriding = override and not version.promotable
    if overriding and not (override_reason or "").strip():
        raise ServiceError(f"overriding the gate ({blocked}) needs a second reason: override_reason",
                           details={"field": "override_reason", "blocked_reasons": version.blocked_reasons})
    if overriding and override_reason.strip() == reason.strip():
        raise ServiceError("override_reason must say why the regression is acceptable, not repeat the reason",
                           details={"field": "override_reason"})
    return _move_champion(version=version, actor=actor, action=PromotionAudit.Action.PROMOTE, reason=reason,
                          override=overriding, override_reason=override_reason.strip() if overriding else "")


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
        get_kind(kind)
    except LookupError as exc:
        raise ServiceError(str(exc), details={"kind": [str(exc)]}) from None
    if project_id is not None:
        project = TrainingRun._meta.get_field("project").related_model.objects.filter(pk=project_id).first()
        if project is None:
            raise NotFound(f"no project {project_id}", details={"project": [f"no project {project_id}"]})
        if project.kind != kind:
            message = f"project {project_id} is of kind {project.kind!r}, not {kind!r}"
            raise ServiceError(message, details={"project": [message]})
    try:
        with transaction.atomic():
            run = TrainingRun.objects.create(kind=kind, scope_key=scope_key, project_id=project_id, trigger=trigger,
                                             params=params or {}, requested_by=actor)
            enqueue(tasknames.RUN_TRAINING, run.pk)
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


# ---- a run's life on the worker: queued -> running -> succeeded | failed | cancelled ------------------------
def training_run_start(*, run_id: int) -> bool:
    """Queued -> running; False when the run is no longer queued (cancelled, or redelivered)."""
    return bool(TrainingRun.objects.filter(pk=run_id, state=TrainingRun.State.QUEUED).update(
        state=TrainingRun.State.RUNNING, started_at=timezone.now()))


RUN_ENDINGS = (TrainingRun.State.FAILED, TrainingRun.State.CANCELLED)


def training_run_end(*, run_id: int, state: str, error: str = "", log: str = "") -> bool:
    """A running run ends failed or cancelled (a run the sweep already gave up stays as it is)."""
    if state not in RUN_ENDINGS:
        raise ValueError(f"a run ends {' or '.join(RUN_ENDINGS)}, not {state!r}")
    return bool(training_run_update(run_id=run_id, only_if_state=TrainingRun.State.RUNNING, state=state,
                                    finished_at=timezone.now(), error=error[:4000], log=log))


def training_run_succeed(*, run_id: int, candidate_id: int, base_version_id: int | None, params: dict,
                         log: str = "") -> bool:
    """A running run succeeded with its registered candidate; False when it is no longer running."""
    return bool(training_run_update(run_id=run_id, only_if_state=TrainingRun.State.RUNNING,
                                    state=TrainingRun.State.SUCCEEDED, candidate_id=candidate_id,
                                    base_version_id=base_version_id, finished_at=timezone.now(), progress=1.0,
                                    eta_seconds=0, params=params, log=log))


def training_run_mark_lost(*, run_id: int) -> bool:
    """A running run whose worker is gone (its scope lock expired) is marked failed."""
    return bool(TrainingRun.objects.filter(pk=run_id, state=TrainingRun.State.RUNNING).update(
        state=TrainingRun.State.FAILED, finished_at=timezone.now(),
        error="worker lost: the run's scope lock expired (the worker died or was killed)"))


@transaction.atomic
def threshold_set(*, version_id: int, value: float, actor, reason: str, basis: str = "") -> OperatingThreshold:
    """Choose a version's operating threshold (audited with actor and reason). Inference uses it from its
    next batch, and the version's proposals on open items are re-scored with it (``threshold_changed``)."""
    if actor is not None and not can(actor, "model.promote"):
        raise NotAllowed("choosing an operating threshold needs the admin role")
    _require_reason(reason, "changing the operating threshold")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
        raise ServiceError("value: a number from 0 to 1", details={"field": "value"})
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFound(f"no model version {version_id}")
    previous = OperatingThreshold.objects.filter(model_version=version).first()
    row = OperatingThreshold.objects.create(model_version=version, value=float(value), basis=basis[:200],
                                            actor=actor, reason=reason)
    publish(MLOPS_GROUP, "model.threshold_changed",
            {**_version_json(version), "value": row.value, "previous": previous.value if previous else None,
             "basis": row.basis, "actor": actor.get_username() if actor else None, "reason": reason})
    # The open items this version already proposed for are re-scored under the new threshold (from the
    # stored scores where they suffice, else by running the model again): the queue and the proposals
    # operators see next follow the admin's choice, not only the items predicted from now on.
    enqueue(tasknames.THRESHOLD_CHANGED, version.pk, row.pk, priority=settings.LOUPE_PRIORITY_BACKFILL)
    return row


# ---- workers' heartbeats ------------------------------------------------------------------------------------
def worker_heartbeat(*, name: str, queues: list[str], device: str, pid: int | None = None,
                     started_at=None) -> None:
    """A worker is alive (sent by the worker every ``LOUPE_WORKER_HEARTBEAT_SECONDS``). A restarted worker
    of the same name starts a new life: its start time is replaced and a previous clean stop forgotten."""
    now = timezone.now()
    defaults = {"queues": sorted(map(str, queues)), "device": str(device)[:100], "pid": pid, "last_seen": now,
                "stopped_at": None}
    if started_at is not None:
        defaults["started_at"] = started_at
    row, created = WorkerHeartbeat.objects.update_or_create(name=name[:200], defaults=defaults,
                                                             create_defaults={**defaults,
                                                                              "started_at": started_at or now})
    if created:
        publish(MLOPS_GROUP, "worker.started", {"name": row.name, "queues": row.queues, "device": row.device})


def worker_stopped(*, name: str) -> None:
    """A worker shut down cleanly (a killed one just stops beating)."""
    WorkerHeartbeat.objects.filter(name=name).update(stopped_at=timezone.now())
    publish(MLOPS_GROUP, "worker.stopped", {"name": name})


# ---- a project's training triggers ---------------------------------------------------------------------------
# Field -> (smallest, largest) for the counts; auto-promote is a plain yes / no.
TRIGGER_LIMITS = {"train_after_corrections": (1, 100_000), "train_after_minutes": (1, 7 * 24 * 60)}
TRIGGER_FIELDS = (*TRIGGER_LIMITS, "auto_promote")


def _trigger_value(field: str, value):
    if field == "auto_promote":
        if not isinstance(value, bool):
            raise ServiceError(f"{field}: true or false", details={"field": field})
        return value
    low, high = TRIGGER_LIMITS[field]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ServiceError(f"{field}: a whole number from {low} to {high}", details={"field": field})
    return value


@transaction.atomic
def training_triggers_update(*, project_id: int, actor, reason: str = "", **changes) -> TriggerChange | None:
    """Change when a project's scope retrains (after N new accepted corrections, or T minutes with at least
    one) and whether a candidate that passes the gate is promoted without an admin. Audited with the
    actor, the old and new values and the reason; nothing is saved when one value is wrong. Returns the
    audit row, or None when nothing changed."""
    if actor is not None and not can(actor, "training.manage"):
        raise NotAllowed("changing the training triggers needs the admin role")
    unknown = sorted(set(changes) - set(TRIGGER_FIELDS))
    if unknown:
        raise ServiceError(f"{unknown[0]}: not a training trigger (one of {', '.join(TRIGGER_FIELDS)})",
                           details={"field": unknown[0]})
    values = {field: _trigger_value(field, value) for field, value in changes.items()}
    project = Project.objects.select_for_update().filter(pk=project_id).first()
    if project is None:
        raise NotFound(f"no project {project_id}", details={"field": "project"})
    diff = {f: [getattr(project, f), v] for f, v in values.items() if getattr(project, f) != v}
    if not diff:
        return None
    for field, (_, new) in diff.items():
        setattr(project, field, new)
    project.save(update_fields=list(diff))
    change = TriggerChange.objects.create(project=project, project_name=project.name, changes=diff, actor=actor,
                                          reason=(reason or "").strip())
    publish(MLOPS_GROUP, "training.triggers_changed",
            {"project": project.pk, "changes": diff, "actor": actor.get_username() if actor else None})
    return change
