"""Drafts: the operator's unfinished answer, saved while they edit (never a revision, never exported or
trained on). Saving needs the caller's lease on the item, so a draft always belongs to work in hand."""
from __future__ import annotations

from django.db import transaction

from webapp.accounts.permissions import require
from webapp.core.errors import Conflict, NotFound
from webapp.labeling.kinds import get_kind
from webapp.labeling.models import Draft, Prediction, WorkItem
from webapp.labeling.selectors import item_asset_dims, lease_held


def draft_save(*, item_id: int, user, annotation, base_revision: int | None,
               from_prediction_id: int | None = None) -> Draft:
    """Validate the annotation like a revision, less the rules only a finished answer meets (a draft is
    work in progress), and store it as the caller's draft of the item (one per
    item and user, overwritten). Refused (409) unless the caller holds the item's lease; nothing is
    stored when anything is wrong."""
    item = WorkItem.objects.select_related("project").filter(pk=item_id).first()
    if item is None:
        raise NotFound(f"no work item {item_id}")
    require(user, "item.label", project_id=item.project_id)
    clean = get_kind(item.project.kind).validate(annotation, item_asset_dims(item_id=item.pk), complete=False)
    if from_prediction_id is not None and not Prediction.objects.filter(pk=from_prediction_id, item=item).exists():
        raise NotFound(f"no prediction {from_prediction_id} for item {item.pk}")
    with transaction.atomic():
        # Read the lease inside the transaction that writes: a lease ended a moment ago stores nothing.
        if lease_held(item_id=item.pk, user=user) is None:
            raise Conflict("you do not hold this item's lease (it ended, expired and was taken, or was never "
                           "yours): take the item again to keep editing")
        draft, _ = Draft.objects.update_or_create(
            item=item, user=user,
            defaults={"annotation": clean, "base_revision": base_revision, "from_prediction_id": from_prediction_id})
    return draft


def draft_delete(*, item_id: int, user) -> bool:
    """Remove the caller's draft of the item; True when there was one."""
    deleted, _ = Draft.objects.filter(item_id=item_id, user=user).delete()
    return bool(deleted)
