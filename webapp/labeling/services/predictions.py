"""Predictions: a model version's proposal for an item, idempotent per (item, version); and imported
annotations (COCO, PAGE XML uploaded beside the images), which show as the proposal with no model version.

A model's new prediction makes the item's older model predictions stale, never an imported one: an
import is someone's earlier work and stays the proposal until it is replaced by another import."""
from __future__ import annotations

from django.db import transaction

from webapp.core.errors import NotFound, ServiceError
from webapp.labeling.kinds import AnnotationError, get_kind
from webapp.labeling.models import ItemState, Lease, Prediction, WorkItem
from webapp.labeling.selectors import item_asset_dims, items_asset_dims
from webapp.labeling.services.events import depth_event, item_event


def _mark_predicted(items: list[WorkItem]) -> None:
    """NEW items become PREDICTED. The state is compared and set in the database, never written back from
    the copy read earlier: an operator may have taken the item in between, and writing that stale state
    over LEASED would take the lease from its holder and put a held item back in the queue."""
    ids = [item.pk for item in items]
    moved = set(WorkItem.objects.filter(pk__in=ids, state=ItemState.NEW).values_list("pk", flat=True))
    WorkItem.objects.filter(pk__in=moved, state=ItemState.NEW).update(state=ItemState.PREDICTED)
    Lease.objects.filter(item_id__in=ids, ended_at__isnull=True, previous_state=ItemState.NEW).update(
        previous_state=ItemState.PREDICTED)
    for item in items:
        if item.pk in moved:
            item.state = ItemState.PREDICTED


@transaction.atomic
def prediction_record(*, item_id: int, model_version_id: int, payload: dict, scores: dict | None = None,
                      uncertainty: float) -> tuple[Prediction, bool]:
    """Store a prediction (once per item and version), make it the item's fresh one and re-rank the item.

    Returns (prediction, created). A redelivered batch finds the existing row and writes nothing.
    """
    try:
        item = WorkItem.objects.select_related("project").get(pk=item_id)
    except WorkItem.DoesNotExist:
        raise NotFound(f"no work item {item_id}") from None
    version = (Prediction._meta.get_field("model_version").related_model.objects
               .filter(pk=model_version_id).values("kind").first())
    if version is None:
        raise ServiceError(f"no model version {model_version_id}; register the model version first",
                           details={"field": "model_version"})
    if version["kind"] != item.project.kind:
        raise ServiceError(f"model version {model_version_id} is a {version['kind']} model; item {item.pk} is a "
                           f"{item.project.kind} item", details={"field": "model_version"})
    spec = get_kind(item.project.kind)
    try:
        payload = spec.validate(payload, item_asset_dims(item_id=item.pk))
    except AnnotationError as exc:
        raise AnnotationError([{"path": e["path"], "message": f"model output: {e['message']}"} for e in exc.errors])
    uncertainty = min(1.0, max(0.0, float(uncertainty)))
    prediction, created = Prediction.objects.get_or_create(
        item=item, model_version_id=model_version_id,
        defaults={"payload": payload, "scores": scores or {}, "uncertainty": uncertainty})
    if not created:
        return prediction, False
    Prediction.objects.filter(item=item, source=Prediction.Source.MODEL).exclude(pk=prediction.pk).update(stale=True)
    WorkItem.objects.filter(pk=item.pk).update(uncertainty=uncertainty, queue_rank=uncertainty)
    _mark_predicted([item])
    item_event(item, "prediction.created", prediction=prediction.pk, model_version=model_version_id,
               uncertainty=uncertainty)
    depth_event(item.project_id)
    return prediction, True


def predictions_record_batch(*, model_version_id: int, rows: list[dict]) -> dict[str, list[int]]:
    """``prediction_record`` for a whole inference batch in one transaction and a fixed number of queries.

    ``rows``: [{"item_id", "payload", "scores", "uncertainty"}]. Returns item ids by outcome: ``created``,
    ``skipped`` (already predicted by this version, or gone), ``failed`` (model output that does not fit the
    kind's schema — a model bug must not block the rest of the batch).
    """
    outcome: dict[str, list[int]] = {"created": [], "skipped": [], "failed": []}
    items = WorkItem.objects.select_related("project").in_bulk([r["item_id"] for r in rows])
    dims = items_asset_dims(item_ids=list(items))
    fresh: dict[int, Prediction] = {}
    for row in rows:
        item = items.get(row["item_id"])
        if item is None:
            outcome["skipped"].append(row["item_id"])
            continue
        try:
            payload = get_kind(item.project.kind).validate(row["payload"], dims[item.pk])
        except AnnotationError:
            outcome["failed"].append(item.pk)
            continue
        fresh[item.pk] = Prediction(item=item, model_version_id=model_version_id, payload=payload,
                                    scores=row.get("scores") or {},
                                    uncertainty=min(1.0, max(0.0, float(row["uncertainty"]))))
    with transaction.atomic():
        done = set(Prediction.objects.filter(model_version_id=model_version_id, item_id__in=list(fresh))
                   .values_list("item_id", flat=True))
        new = [p for pk, p in fresh.items() if pk not in done]
        Prediction.objects.bulk_create(new, ignore_conflicts=True)
        new_ids = [p.item_id for p in new]
        (Prediction.objects.filter(item_id__in=new_ids, source=Prediction.Source.MODEL)
         .exclude(model_version_id=model_version_id).update(stale=True))
        changed = []
        for p in new:
            item = items[p.item_id]
            item.uncertainty = item.queue_rank = p.uncertainty
            changed.append(item)
        WorkItem.objects.bulk_update(changed, ["uncertainty", "queue_rank"], batch_size=500)
        _mark_predicted(changed)
        for item in changed:
            item_event(item, "prediction.created", model_version=model_version_id, uncertainty=item.uncertainty)
        for project_id in {item.project_id for item in changed}:
            depth_event(project_id)
    outcome["created"] = new_ids
    outcome["skipped"] += sorted(done)
    return outcome


def predictions_rescore(*, model_version_id: int, rows: list[dict], reason: str = "threshold") -> dict[str, list[int]]:
    """Replace the version's prediction of each item in place (one prediction per item and version): the same
    model under a new operating threshold proposes something else. ``rows``: [{"item_id", "payload", "scores",
    "uncertainty"}]. Only fresh predictions of unaccepted items change; the item is re-ranked and its open
    page hears of it (``prediction.created`` with ``rescored``). Returns item ids: ``updated``, ``skipped``
    (accepted, stale, gone), ``failed`` (output the kind's schema refuses)."""
    outcome: dict[str, list[int]] = {"updated": [], "skipped": [], "failed": []}
    by_item = {r["item_id"]: r for r in rows}
    with transaction.atomic():
        current = {p.item_id: p for p in Prediction.objects.select_for_update().select_related("item__project")
                   .filter(model_version_id=model_version_id, item_id__in=list(by_item), stale=False)
                   .exclude(item__state=ItemState.ACCEPTED)}
        dims = items_asset_dims(item_ids=list(current))
        changed_items = []
        for item_id, row in by_item.items():
            prediction = current.get(item_id)
            if prediction is None:
                outcome["skipped"].append(item_id)
                continue
            try:
                payload = get_kind(prediction.item.project.kind).validate(row["payload"], dims[item_id])
            except AnnotationError:
                outcome["failed"].append(item_id)
                continue
            prediction.payload, prediction.scores = payload, row.get("scores") or {}
            prediction.uncertainty = min(1.0, max(0.0, float(row["uncertainty"])))
            prediction.save(update_fields=["payload", "scores", "uncertainty"])
            item = prediction.item
            item.uncertainty = item.queue_rank = prediction.uncertainty
            changed_items.append(item)
            outcome["updated"].append(item_id)
        WorkItem.objects.bulk_update(changed_items, ["uncertainty", "queue_rank"], batch_size=500)
        for item in changed_items:
            item_event(item, "prediction.created", model_version=model_version_id, uncertainty=item.uncertainty,
                       rescored=reason)
        for project_id in {item.project_id for item in changed_items}:
            depth_event(project_id)
    return outcome


def predictions_mark_stale(*, kind: str, scope_key: str, keep_version_id: int) -> int:
    """After a promotion: predictions of other versions on unaccepted items of the scope become stale."""
    return (Prediction.objects.filter(item__project__kind=kind, item__project__scope_key=scope_key, stale=False,
                                      source=Prediction.Source.MODEL)
            .exclude(item__state=ItemState.ACCEPTED).exclude(model_version_id=keep_version_id).update(stale=True))


@transaction.atomic
def predictions_import(*, annotations: dict[int, dict]) -> list[int]:
    """Store validated, imported annotations as their items' proposals (source: import). Importing the
    same annotation again writes nothing; a different one replaces the item's earlier import. Returns
    the ids of the items whose proposal changed."""
    items = WorkItem.objects.in_bulk(list(annotations))
    current = {p.item_id: p for p in Prediction.objects.filter(item_id__in=list(items), source=Prediction.Source.IMPORT,
                                                               stale=False)}
    changed = []
    for item_id, payload in annotations.items():
        item = items[item_id]
        old = current.get(item_id)
        if old is not None and old.payload == payload:
            continue
        if old is not None:
            Prediction.objects.filter(pk=old.pk).update(stale=True)
        prediction = Prediction.objects.create(item=item, source=Prediction.Source.IMPORT, payload=payload,
                                               uncertainty=item.uncertainty if item.uncertainty is not None else 1.0)
        _mark_predicted([item])
        item_event(item, "prediction.created", prediction=prediction.pk, model_version=None, source="import")
        changed.append(item_id)
    for project_id in {items[i].project_id for i in changed}:
        depth_event(project_id)
    return changed
