"""Control items: items with known truth served blind to operators, as copies, to score their answers.

An admin marks an accepted item (a golden one, or one a reviewer accepted) as a control; its truth is its
revision at that moment. Take-next serves a control instead of the queue's next item with the project's
``control_rate``: a fresh copy of the item (its images, meta and proposal; ``control_copy`` set, which no
API shows) leased to the operator, so nothing tells it apart. Each operator gets each control at most once
(a unique constraint), never one whose truth they wrote. Their answer on the copy is a revision of the copy
like any other, scored against the truth by the kind's own measure; the control item and its truth are
never touched, and copies are never reviewed, exported, queued for anyone else or trained on.
"""
from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.accounts.permissions import require
from webapp.core.errors import Conflict, NotFound
from webapp.labeling.kinds import get_kind
from webapp.labeling.models import (
    ControlAnswer, ControlItem, ItemState, Lease, Prediction, Revision, WorkItem, WorkItemAsset,
)
from webapp.labeling.selectors import item_asset_dims


def control_mark(*, item_id: int, user, active: bool = True) -> ControlItem:
    """Make the accepted item a control item (its current revision is the truth), or stop serving it."""
    item = WorkItem.objects.select_related("head_revision").filter(pk=item_id).first()
    if item is None:
        raise NotFound(f"no work item {item_id}")
    require(user, "project.manage", project_id=item.project_id)
    if item.control_copy:
        raise Conflict(f"item {item_id} is itself an operator's copy of a control item")
    if active and (item.state != ItemState.ACCEPTED or item.head_revision is None):
        raise Conflict(f"item {item_id} is {item.state}: only an accepted item has a truth to score against")
    control = ControlItem.objects.filter(item=item).first()
    if control is None:
        if not active:
            raise NotFound(f"item {item_id} is not a control item")
        return ControlItem.objects.create(project_id=item.project_id, item=item, truth=item.head_revision,
                                          marked_by=user)
    control.active = active
    if active:
        control.truth, control.marked_by = item.head_revision, user
    control.save(update_fields=["active", "truth", "marked_by", "updated_at"])
    return control


def control_serve(*, control_id: int, user, now: datetime, expires: datetime,
                  ahead_in: int | None = None) -> Lease | None:
    """Copy the control item for ``user`` and lease the copy to them; None when they had it already (a
    concurrent take-next of theirs won) or it stopped being served. ``ahead_in``: the project, when the copy
    is leased ahead (``Lease.ahead_in``)."""
    control = ControlItem.objects.select_related("item").filter(pk=control_id, active=True).first()
    if control is None:
        return None
    source = control.item
    proposal = (Prediction.objects.filter(item=source).order_by("stale", "-id")
                .only("source", "model_version_id", "payload", "scores", "uncertainty").first())
    try:
        with transaction.atomic():
            copy = WorkItem.objects.create(
                project_id=source.project_id, external_id=source.external_id, state=ItemState.LEASED,
                uncertainty=proposal.uncertainty if proposal else None,
                queue_rank=proposal.uncertainty if proposal else -1.0, meta=dict(source.meta or {}),
                control_copy=True, lease_holder=user, lease_expires_at=expires)
            WorkItemAsset.objects.bulk_create(
                WorkItemAsset(item=copy, asset_id=link.asset_id, position=link.position, role=link.role)
                for link in source.item_assets.all())
            if proposal is not None:
                Prediction.objects.create(item=copy, source=proposal.source, model_version_id=proposal.model_version_id,
                                          payload=proposal.payload, scores=proposal.scores,
                                          uncertainty=proposal.uncertainty)
            ControlAnswer.objects.create(control=control, operator=user, copy=copy)
            previous = ItemState.PREDICTED if proposal else ItemState.NEW
            lease = Lease.objects.create(item=copy, holder=user, previous_state=previous, expires_at=expires,
                                         ahead_in_id=ahead_in)
    except IntegrityError:
        return None
    lease.item = copy
    return lease


def control_answer_score(*, item_id: int, revision: Revision, kind: str) -> ControlAnswer:
    """Score an operator's answer on their copy of a control item against the truth."""
    answer = ControlAnswer.objects.select_related("control__truth").get(copy_id=item_id)
    spec = get_kind(kind)
    measures = (spec.control_score(answer.control.truth.annotation, revision.annotation,
                                   item_asset_dims(item_id=item_id)) if spec.control_score else {})
    answer.revision = revision
    answer.accuracy = measures.pop("accuracy", None)
    answer.measures = measures
    answer.answered_at = timezone.now()
    answer.save(update_fields=["revision", "accuracy", "measures", "answered_at"])
    return answer
