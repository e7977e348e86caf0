"""Inference on the ``infer`` queue: batches of items predicted with their scope's champion.

- ``predict_items``: new items (chained from the derivatives task and from item creation) and re-scoring;
  a scope without a champion gets the proposals of its model-free version where the kind's proposal needs
  no trained model (OMR alignment: ``workers.model_free``), else none until its first model;
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
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from webapp.core import tasknames
from webapp.core.tasks import enqueue
from webapp.labeling.selectors_loop import (
    item_files_list,
    item_ids_by_scope,
    item_ids_without_prediction,
    item_ready_ids,
    item_rescore_ids,
    item_unpredicted_ids,
    project_list_of_scope,
)
from webapp.labeling.services import item_repredict_started, predictions_mark_stale, predictions_record_batch
from webapp.mlops.selectors import champion_get, version_get
from webapp.realtime.events import project_group, send_now
from workers import model_free
from workers.adapters import get_adapter, has_adapter
from workers.base import loupe_task
from workers.itemdata import decode_files
from workers.maps import rasters_store
from workers.models import artifact_path, champion_predictor, device

log = logging.getLogger(__name__)
PREDICT_TASK = tasknames.PREDICT_ITEMS
RESCORE_CHUNK = 64   # items per re-scoring message: small enough that interactive requests get in between
PREFETCH_BATCHES = 2  # batches decoded ahead of the model
_MODEL_THREAD: ThreadPoolExecutor | None = None


def batch_size(kind: str) -> int:
    return settings.LOUPE_INFER_BATCH_SIZE or get_adapter(kind).batch_size(device())


def predict(item_ids: list[int], *, fill: bool = True) -> dict[str, int]:
    """Predict the given items (and, with ``fill``, other unpredicted items of their scopes up to a batch)."""
    stats = {"predicted": 0, "skipped": 0, "failed": 0}
    for (kind, scope), ids in item_ids_by_scope(item_ids=item_ids).items():
        if not has_adapter(kind):
            stats["skipped"] += len(ids)
            continue
        version, predictor = champion_predictor(kind, scope)
        if version is None:   # a kind that proposes without a trained model does so until the first champion
            version, predictor = model_free.predictor(kind, scope)
        if version is None:   # no model yet: the sweep bootstraps one, and its promotion re-scores these
            stats["skipped"] += len(ids)
            continue
        bs = batch_size(kind)
        todo = item_ids_without_prediction(item_ids=ids, version_id=version.pk)
        if fill and len(todo) < bs:
            todo += item_unpredicted_ids(kind=kind, scope_key=scope, version_id=version.pk, limit=bs - len(todo),
                                         exclude=todo)
        stats["skipped"] += len(ids) - len(set(ids) & set(todo))
        for key, n in _predict_pipelined(get_adapter(kind), predictor, version.pk, todo, bs).items():
            stats[key] += n
    return stats


def _predict_pipelined(adapter, predictor, version_id: int, todo: list[int], bs: int) -> dict[str, int]:
    """Decode, predict and write overlapping: while batch k is on the model (its own thread), batch k-1 is
    written (this thread: every database access stays here) and batches k+1.. are decoded (the decoding
    pool). One transaction per batch; the working copies are decoded at the model's input size."""
    stats = {"predicted": 0, "skipped": 0, "failed": 0}
    batches = [todo[start:start + bs] for start in range(0, len(todo), bs)]
    files = {f.item_id: f for f in item_files_list(item_ids=todo)}
    mode, min_side = getattr(adapter, "image_mode", "RGB"), adapter.input_side(predictor)
    decoding: deque = deque()
    queued = 0

    def decode_next() -> None:
        nonlocal queued
        if queued < len(batches):
            batch = [files[i] for i in batches[queued] if i in files]
            decoding.append(decode_files(batch, mode=mode, min_side=min_side))
            queued += 1

    def write(items, proposals) -> None:
        rows = []
        for item, proposal in zip(items, proposals):
            if proposal.rasters:   # files first: the row that names them is written after
                proposal.scores["maps"] = rasters_store(item_id=item.item_id, model_version_id=version_id,
                                                        rasters=proposal.rasters)
            rows.append({"item_id": item.item_id, "payload": proposal.annotation, "scores": proposal.scores,
                         "uncertainty": proposal.uncertainty})
        # One transaction per batch: on a GPU the per-row writes, not the model, were the bottleneck.
        outcome = predictions_record_batch(model_version_id=version_id, rows=rows)
        if outcome["failed"]:
            log.error("model output rejected by the schema for items %s", outcome["failed"])
        for key, stat in (("created", "predicted"), ("skipped", "skipped"), ("failed", "failed")):
            stats[stat] += len(outcome[key])

    for _ in range(PREFETCH_BATCHES):
        decode_next()
    previous = None
    while decoding:
        items = decoding.popleft().result()
        decode_next()
        running = _model_thread().submit(adapter.predict, predictor, items, bs) if items else None
        if previous is not None:
            write(*previous)
        previous = (items, running.result()) if running is not None else None
    if previous is not None:
        write(*previous)
    return stats


def _model_thread() -> ThreadPoolExecutor:
    """One thread per process runs the model (the device sees one stream of batches, in order)."""
    global _MODEL_THREAD
    if _MODEL_THREAD is None:
        _MODEL_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loupe-model")
    return _MODEL_THREAD


@loupe_task(tasknames.PREDICT_ITEMS, time_limit=1800)
def predict_items(item_ids: list[int], fill: bool = True) -> dict[str, int]:
    return predict(item_ids, fill=fill)


@loupe_task(tasknames.REPREDICT_ITEM, time_limit=300)
def repredict_item(item_id: int) -> dict[str, int]:
    """An operator asked for a proposal now: this item only, with the current champion."""
    item_repredict_started(item_id=item_id)
    return predict([item_id], fill=False)


def projects_served_by(kind: str, scope_key: str) -> list:
    """Projects whose champion is the scope's: its own projects, and (for the global scope) every project
    of the kind whose own scope has no champion and falls back to the global one."""
    return [p for p in project_list_of_scope(kind=kind) if p.scope_key == scope_key or
            (scope_key == "" and champion_get(kind=kind, scope_key=p.scope_key, fallback_to_global=False) is None)]


def rescore(kind: str, scope_key: str, version_id: int) -> int:
    """Mark the old predictions of the served unaccepted items stale and queue them for the new champion."""
    queued = 0
    for project in projects_served_by(kind, scope_key):
        predictions_mark_stale(kind=kind, scope_key=project.scope_key, keep_version_id=version_id)
        ids = item_rescore_ids(project_id=project.pk, version_id=version_id)
        for start in range(0, len(ids), RESCORE_CHUNK):
            enqueue(PREDICT_TASK, ids[start:start + RESCORE_CHUNK], False,
                    priority=settings.LOUPE_PRIORITY_BACKFILL)
        send_now(project_group(project.pk), "predictions.rescoring",
                 {"project": project.pk, "model_version": version_id, "items": len(ids)})
        queued += len(ids)
    return queued


@loupe_task(tasknames.CHAMPION_CHANGED, time_limit=600)
def champion_changed(kind: str, scope_key: str, version_id: int) -> int:
    """Sent on commit of a promotion or rollback (webapp.mlops.services). The worker that takes it copies
    the new champion's artifact from the object store now, before the re-scoring batches arrive (the
    others do at their next batch)."""
    version = version_get(version_id=version_id)
    if version is not None:
        try:
            artifact_path(version.artifact_uri)
        except FileNotFoundError:   # the batches report it; re-scoring is still queued
            log.warning("champion v%s: its artifact %s is not in the store", version_id, version.artifact_uri)
    return rescore(kind, scope_key, version_id)


def enqueue_ready_items(asset_id: int) -> int:
    """After an asset's derivatives: queue the unaccepted items using it whose images are all ready."""
    ids = item_ready_ids(asset_id=asset_id)
    if ids:
        enqueue(PREDICT_TASK, ids, True, priority=settings.LOUPE_PRIORITY_NEW)
    return len(ids)
