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
from webapp.labeling.models import ControlAnswer, ControlItem, ControlMarkEvent, ItemState, Lease, Revision, WorkItem
from webapp.labeling.selectors import item_asset_dims
from webapp.labeling.services.blind_copies import item_blind_copy


@transaction.atomic
def control_mark(*, item_id: int, user, active: bool = True) -> ControlItem:
    """Make the accepted item a control item (its current revision is the truth), or stop serving it. Each
    call is kept in the control's history (``ControlMarkEvent``)."""
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
        control = ControlItem.objects.create(project_id=item.project_id, item=item, truth=item.head_revision,
                                             marked_by=user)
    else:
        control.active = active
        if active:
            control.truth, control.marked_by = item.head_revision, user
        control.save(update_fields=["active", "truth", "marked_by", "updated_at"])
    ControlMarkEvent.objects.create(control=control, active=active, truth_id=control.truth_id, actor=user)
    return control


def control_serve(*, control_id: int, user, now: datetime, expires: datetime,
                  ahead_in: int | None = None) -> Lease | None:
    """Copy the control item for ``user`` and lease the copy to them; None when they had it already (a
    concurrent take-next of theirs won) or it stopped being served. ``ahead_in``: the project, when the copy
    is leased ahead (``Lease.ahead_in``)."""
    control = ControlItem.objects.select_related("item").filter(pk=control_id, active=True).first()
    if control is None:
        return None
    try:
        with transaction.atomic():
            copy, lease = item_blind_copy(source=control.item, user=user, expires=expires, ahead_in=ahead_in)
            ControlAnswer.objects.create(control=control, operator=user, copy=copy)
    except IntegrityError:
        return None
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
