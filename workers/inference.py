"""Inference on the ``infer`` queue: batches of items predicted with their scope's champion.

- ``predict_items``: new items (chained from the derivatives task and from item creation) and re-scoring;
  it fills its batch with other unpredicted items of the same scope, so a burst of single-item messages
  turns into a few full batches and the rest find their work done.
- ``repredict_item``: an operator's request, sent with the highest priority (served before backfill).
- ``champion_changed``: after a promotion or rollback, marks the old predictions of unaccepted items
  stale and re-scores those items in batches with the new champion.
Redelivered messages are harmless: an item that already has the champion's prediction is skipped, and
the database refuses a second prediction for the same (item, version).
"""
from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.db.models import Exists, OuterRef

from webapp.core.tasks import enqueue
from webapp.labeling.models import QUEUEABLE_STATES, ItemState, Prediction, Project, WorkItem
from webapp.labeling.services import predictions_mark_stale, predictions_record_batch
from webapp.mlops.selectors import champion_get
from webapp.realtime.events import project_group, send_now
from workers.adapters import get_adapter, has_adapter
from workers.base import loupe_task
from workers.itemdata import load_items
from workers.maps import rasters_store
from workers.models import champion_predictor, device

log = logging.getLogger(__name__)
PREDICT_TASK = "loupe.infer.predict_items"
RESCORE_CHUNK = 64   # items per re-scoring message: small enough that interactive requests get in between


def batch_size(kind: str) -> int:
    return settings.LOUPE_INFER_BATCH_SIZE or get_adapter(kind).batch_size(device())


def _without_prediction(qs, version_id: int):
    return qs.exclude(Exists(Prediction.objects.filter(item=OuterRef("pk"), model_version_id=version_id)))


def predict(item_ids: list[int], *, fill: bool = True) -> dict[str, int]:
    """Predict the given items (and, with ``fill``, other unpredicted items of their scopes up to a batch)."""
    stats = {"predicted": 0, "skipped": 0, "failed": 0}
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, kind, scope in (WorkItem.objects.filter(pk__in=item_ids).exclude(state=ItemState.ACCEPTED)
                            .values_list("pk", "project__kind", "project__scope_key")):
        groups[(kind, scope)].append(pk)
    for (kind, scope), ids in groups.items():
        if not has_adapter(kind):
            stats["skipped"] += len(ids)
            continue
        version, predictor = champion_predictor(kind, scope)
        if version is None:   # no model yet: the sweep bootstraps one, and its promotion re-scores these
            stats["skipped"] += len(ids)
            continue
        bs = batch_size(kind)
        todo = list(_without_prediction(WorkItem.objects.filter(pk__in=ids), version.pk).values_list("pk", flat=True))
        if fill and len(todo) < bs:
            more = _without_prediction(WorkItem.objects.filter(project__kind=kind, project__scope_key=scope,
                                                               state__in=QUEUEABLE_STATES), version.pk)
            todo += list(more.exclude(pk__in=todo).order_by("id").values_list("pk", flat=True)[:bs - len(todo)])
        stats["skipped"] += len(ids) - len(set(ids) & set(todo))
        adapter = get_adapter(kind)
        for start in range(0, len(todo), bs):
            items = load_items(todo[start:start + bs], mode=getattr(adapter, "image_mode", "RGB"))
            if not items:
                continue
            rows = []
            for item, proposal in zip(items, adapter.predict(predictor, items, bs)):
                if proposal.rasters:   # files first: the row that names them is written after
                    proposal.scores["maps"] = rasters_store(item_id=item.item_id, model_version_id=version.pk,
                                                            rasters=proposal.rasters)
                rows.append({"item_id": item.item_id, "payload": proposal.annotation, "scores": proposal.scores,
                             "uncertainty": proposal.uncertainty})
            # One transaction per batch: on a GPU the per-row writes, not the model, were the bottleneck.
            outcome = predictions_record_batch(model_version_id=version.pk, rows=rows)
            if outcome["failed"]:
                log.error("model output rejected by the schema for items %s", outcome["failed"])
            for key, stat in (("created", "predicted"), ("skipped", "skipped"), ("failed", "failed")):
                stats[stat] += len(outcome[key])
    return stats


@loupe_task("infer", time_limit=1800)
def predict_items(item_ids: list[int], fill: bool = True) -> dict[str, int]:
    return predict(item_ids, fill=fill)


@loupe_task("infer", time_limit=300)
def repredict_item(item_id: int) -> dict[str, int]:
    """An operator asked for a proposal now: this item only, with the current champion."""
    return predict([item_id], fill=False)


def projects_served_by(kind: str, scope_key: str) -> list[Project]:
    """Projects whose champion is the scope's: its own projects, and (for the global scope) every project
    of the kind whose own scope has no champion and falls back to the global one."""
    projects = list(Project.objects.filter(kind=kind))
    return [p for p in projects if p.scope_key == scope_key or
            (scope_key == "" and champion_get(kind=kind, scope_key=p.scope_key, fallback_to_global=False) is None)]


def rescore(kind: str, scope_key: str, version_id: int) -> int:
    """Mark the old predictions of the served unaccepted items stale and queue them for the new champion."""
    queued = 0
    for project in projects_served_by(kind, scope_key):
        predictions_mark_stale(kind=kind, scope_key=project.scope_key, keep_version_id=version_id)
        ids = list(_without_prediction(WorkItem.objects.filter(project=project).exclude(state=ItemState.ACCEPTED),
                                       version_id).order_by("-queue_rank", "id").values_list("pk", flat=True))
        for start in range(0, len(ids), RESCORE_CHUNK):
            enqueue(PREDICT_TASK, ids[start:start + RESCORE_CHUNK], False,
                    priority=settings.LOUPE_PRIORITY_BACKFILL)
        send_now(project_group(project.pk), "predictions.rescoring",
                 {"project": project.pk, "model_version": version_id, "items": len(ids)})
        queued += len(ids)
    return queued


@loupe_task("infer", time_limit=600)
def champion_changed(kind: str, scope_key: str, version_id: int) -> int:
    """Sent on commit of a promotion or rollback (webapp.mlops.services)."""
    return rescore(kind, scope_key, version_id)


def enqueue_ready_items(asset_id: int) -> int:
    """After an asset's derivatives: queue the unaccepted items using it whose images are all ready."""
    from workers.itemdata import _links, ready

    items = [i for i in _links(WorkItem.objects.filter(item_assets__asset_id=asset_id)
                               .exclude(state=ItemState.ACCEPTED).distinct()) if ready(i)]
    if items:
        enqueue(PREDICT_TASK, [i.pk for i in items], True, priority=settings.LOUPE_PRIORITY_NEW)
    return len(items)
