"""When training starts, and the sweep that keeps the loop going without anyone watching it.

A run of a scope starts when N new accepted corrections have arrived since the last run, or when the
oldest of them is T minutes old (N and T per project; the smallest over the scope's projects). At most
one run per scope: the scope's Redis lock (held by a running run) and the database's one-active-run
constraint; a short Redis guard also keeps two simultaneous checks from racing to the constraint.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from webapp.core import tasknames
from webapp.core.errors import Conflict
from webapp.core.tasks import enqueue
from webapp.labeling.selectors_loop import (
    item_exists_in_scope,
    item_unpredicted_ids,
    project_find,
    project_list_of_scope,
    project_scopes,
)
from webapp.mlops.selectors import (
    champion_get,
    training_run_bootstrap_failed_since,
    training_run_is_active,
    training_run_list_queued,
    training_run_list_running,
)
from webapp.mlops.services import training_run_mark_lost, training_run_request
from webapp.realtime.events import MLOPS_GROUP, send_now
from workers import model_free, trainset
from workers.adapters import has_adapter
from workers.base import loupe_task
from workers.locks import ScopeLock, client, key, once_within

log = logging.getLogger(__name__)
BOOTSTRAP_RETRY_SECONDS = 600   # after a failed bootstrap, wait this long before trying again
MAX_RETRIES = 2                 # new runs for a run whose worker died


def _busy(kind: str, scope_key: str) -> bool:
    return ScopeLock(kind, scope_key).holder() is not None or training_run_is_active(kind=kind, scope_key=scope_key)


def _request(kind: str, scope_key: str, project_id: int | None, trigger: str, params: dict) -> int | None:
    try:
        return training_run_request(kind=kind, scope_key=scope_key, project_id=project_id, trigger=trigger,
                                    params=params).pk
    except Conflict:   # another check won the race; the database allows one active run per scope
        return None


def check_scope(kind: str, scope_key: str, *, project_id: int | None = None) -> dict:
    """Decide whether the scope trains now; returns what was decided (for logs and tests)."""
    if not has_adapter(kind):
        return {"decision": "no-adapter"}
    guard = client().set(key("trigger-guard", kind, scope_key or "_global"), "1", nx=True, ex=10)
    if not guard:
        return {"decision": "busy"}
    try:
        if _busy(kind, scope_key):
            return {"decision": "busy"}
        projects = project_list_of_scope(kind=kind, scope_key=scope_key)
        if not projects:
            return {"decision": "no-project"}
        project_id = project_id or projects[0].pk
        if champion_get(kind=kind, scope_key=scope_key) is None:
            return _maybe_bootstrap(kind, scope_key, project_id)
        new = trainset.new_corrections(kind, scope_key)
        n_needed = min(p.train_after_corrections for p in projects)
        minutes = min(p.train_after_minutes for p in projects)
        trigger = None
        if new and len(new) >= max(1, n_needed):
            trigger = "corrections"
        elif new and minutes and min(c.accepted_at for c in new) <= timezone.now() - timedelta(minutes=minutes):
            trigger = "timer"
        if trigger is None:
            return {"decision": "wait", "new": len(new), "needed": n_needed}
        run = _request(kind, scope_key, project_id, trigger, {"n_new_at_trigger": len(new)})
        return {"decision": "started" if run else "busy", "run": run, "trigger": trigger, "new": len(new)}
    finally:
        client().delete(key("trigger-guard", kind, scope_key or "_global"))


def _maybe_bootstrap(kind: str, scope_key: str, project_id: int) -> dict:
    if not settings.LOUPE_BOOTSTRAP:
        return {"decision": "no-champion"}
    if not item_exists_in_scope(kind=kind, scope_key=scope_key):
        return {"decision": "no-items"}
    recent = timezone.now() - timedelta(seconds=BOOTSTRAP_RETRY_SECONDS)
    if training_run_bootstrap_failed_since(kind=kind, scope_key=scope_key, since=recent):
        return {"decision": "bootstrap-failed-recently"}
    run = _request(kind, scope_key, project_id, "bootstrap", {})
    return {"decision": "bootstrap" if run else "busy", "run": run}


@loupe_task(tasknames.TRAINING_TRIGGER_CHECK, time_limit=120)
def training_trigger_check(project_id: int) -> dict:
    """Sent on commit of every accepted correction (webapp.labeling.services.loop)."""
    project = project_find(project_id=project_id)
    if project is None:
        return {"decision": "no-project"}
    return check_scope(project.kind, project.scope_key, project_id=project.pk)


def sweep_dead_runs() -> list[int]:
    """Running runs whose scope lock is gone (their worker died) are marked failed; queued runs whose
    message was lost are sent again (the task ignores duplicates)."""
    failed = []
    for run in training_run_list_running():
        if ScopeLock(run.kind, run.scope_key).holder() != str(run.pk) and training_run_mark_lost(run_id=run.pk):
            failed.append(run.pk)
            send_now(MLOPS_GROUP, "training.failed", {"run": run.pk, "kind": run.kind, "scope_key": run.scope_key,
                                                      "state": "failed", "error": "worker lost"})
            _retry(run)
    old = timezone.now() - timedelta(seconds=settings.LOUPE_QUEUED_RUN_RESEND_SECONDS)
    for run in training_run_list_queued(created_before=old):
        if once_within(f"resend-run-{run.pk}", settings.LOUPE_QUEUED_RUN_RESEND_SECONDS):
            enqueue(tasknames.RUN_TRAINING, run.pk)
    return failed


def _retry(run) -> None:
    """A run lost with its worker is tried again as a new run (a few times), not resumed: its folder may
    hold half a checkpoint, which is never registered."""
    retries = int((run.params or {}).get("retries", 0))
    if retries < MAX_RETRIES:
        _request(run.kind, run.scope_key, run.project_id, run.trigger,
                 {**(run.params or {}), "retry_of": run.pk, "retries": retries + 1})


def backfill(limit: int = 256) -> int:
    """Queue unpredicted items of scopes that have a champion, or propose without one (a safety net behind
    the derivatives chain)."""
    queued = 0
    for kind, scope_key in project_scopes():
        if not has_adapter(kind):
            continue
        version = champion_get(kind=kind, scope_key=scope_key)
        if version is None and model_free.proposes_without_model(kind):
            version = model_free.version(kind, scope_key)
        if version is None:
            continue
        ids = item_unpredicted_ids(kind=kind, scope_key=scope_key, version_id=version.pk, limit=limit)
        if ids and once_within(f"backfill-{kind}-{scope_key}-{version.pk}", 120):
            enqueue(tasknames.PREDICT_ITEMS, ids, True, priority=settings.LOUPE_PRIORITY_BACKFILL)
            queued += len(ids)
    return queued


@loupe_task(tasknames.LOOP_SWEEP, time_limit=300)
def loop_sweep() -> dict:
    """Beat task: dead runs, T-minute triggers and bootstrap for every scope, unpredicted items."""
    failed = sweep_dead_runs()
    decisions = {}
    for kind, scope_key in project_scopes():
        decisions[f"{kind}/{scope_key}"] = check_scope(kind, scope_key)["decision"]
    return {"failed_runs": failed, "decisions": decisions, "backfill": backfill()}
