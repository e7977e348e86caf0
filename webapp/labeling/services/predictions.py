"""Predictions: a model version's proposal for an item. Idempotent per (item, version)."""
from __future__ import annotations

from django.db import transaction

from webapp.core.errors import NotFound
from webapp.labeling.kinds import AnnotationError, get_kind
from webapp.labeling.models import ItemState, Prediction, WorkItem
from webapp.labeling.selectors import item_asset_dims
from webapp.labeling.services.events import depth_event, item_event


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
    Prediction.objects.filter(item=item).exclude(pk=prediction.pk).update(stale=True)
    fields = {"uncertainty": uncertainty, "queue_rank": uncertainty}
    if item.state == ItemState.NEW:
        fields["state"] = ItemState.PREDICTED
    WorkItem.objects.filter(pk=item.pk).update(**fields)
    item.state = fields.get("state", item.state)
    item_event(item, "prediction.created", prediction=prediction.pk, model_version=model_version_id,
               uncertainty=uncertainty)
    depth_event(item.project_id)
    return prediction, True


def predictions_mark_stale(*, kind: str, scope_key: str, keep_version_id: int) -> int:
    """After a promotion: predictions of other versions on unaccepted items of the scope become stale."""
    return (Prediction.objects.filter(item__project__kind=kind, item__project__scope_key=scope_key, stale=False)
            .exclude(item__state=ItemState.ACCEPTED).exclude(model_version_id=keep_version_id).update(stale=True))
