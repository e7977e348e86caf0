"""Revisions: append-only annotation states. A save based on a stale revision is refused with both."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.accounts.roles import OPERATOR, has_role
from webapp.core.errors import Conflict, NotAllowed, NotFound
from webapp.labeling.diff import json_diff
from webapp.labeling.kinds import get_kind
from webapp.labeling.models import Draft, ItemState, Prediction, Revision, WorkItem
from webapp.labeling.selectors import item_asset_dims
from webapp.labeling.services.events import depth_event, item_event
from webapp.labeling.services.leases import lease_end_for_submit
from webapp.labeling.services.loop import correction_accepted


def _conflict(message: str, *, yours: dict, head: Revision | None, item: WorkItem) -> Conflict:
    current = None if head is None else {
        "number": head.number, "annotation": head.annotation, "author": head.author.get_username() if head.author else None,
        "created_at": head.created_at.isoformat()}
    return Conflict(message, details={"item": item.pk, "yours": yours, "current": current})


def revision_submit(*, item_id: int, user, annotation, base_revision: int | None,
                    from_prediction_id: int | None = None) -> Revision:
    """Validate and append a revision made by ``user`` on top of ``base_revision`` (a number, or None
    for the first one). The item must be leased to the user, or free (no work is lost to an expired
    lease). Refused with HTTP 409 and both versions when ``base_revision`` is not the current one."""
    if not has_role(user, OPERATOR):
        raise NotAllowed("submitting needs the operator role")
    try:
        item = WorkItem.objects.select_related("project", "head_revision__author").get(pk=item_id)
    except WorkItem.DoesNotExist:
        raise NotFound(f"no work item {item_id}") from None
    spec = get_kind(item.project.kind)
    clean = spec.validate(annotation, item_asset_dims(item_id=item.pk))
    head = item.head_revision
    if (head.number if head else None) != base_revision:
        raise _conflict(f"this item changed since revision {base_revision}: the current revision is "
                        f"{head.number if head else 'none'}", yours=clean, head=head, item=item)
    if item.state == ItemState.ACCEPTED:
        raise _conflict("this item was accepted already", yours=clean, head=head, item=item)
    if item.state == ItemState.SUBMITTED:
        raise _conflict("this item is waiting for review", yours=clean, head=head, item=item)
    if item.state == ItemState.FLAGGED:
        raise _conflict("this item is flagged: a reviewer resolves the flag first", yours=clean, head=head, item=item)
    now = timezone.now()
    if item.state == ItemState.LEASED and item.lease_holder_id != user.pk and item.lease_expires_at > now:
        raise _conflict("another operator holds this item", yours=clean, head=head, item=item)
    proposal, source = None, {}
    if from_prediction_id is not None:
        prediction = Prediction.objects.filter(pk=from_prediction_id, item=item).only("id", "payload").first()
        if prediction is None:
            raise NotFound(f"no prediction {from_prediction_id} for item {item.pk}")
        proposal, source = prediction.payload, {"prediction": prediction.pk}
    elif head is not None:
        proposal, source = head.annotation, {"revision": head.number}
    new_state = ItemState.SUBMITTED if item.project.review_required else ItemState.ACCEPTED
    try:
        with transaction.atomic():
            revision = Revision.objects.create(
                item=item, number=(head.number + 1) if head else 1, base=head, author=user,
                source=Revision.Source.HUMAN, from_prediction_id=from_prediction_id, annotation=clean,
                diff={"against": source, "changes": json_diff(proposal, clean)},
                edit_count=spec.count_edits(proposal, clean) if spec.count_edits else 0)
            # Compare-and-set on the head: a concurrent save based on the same head loses cleanly.
            moved = WorkItem.objects.filter(pk=item.pk, head_revision=head).update(
                head_revision=revision, state=new_state, lease_holder=None, lease_expires_at=None, updated_at=now)
            if not moved:
                raise IntegrityError("head moved")
            lease_end_for_submit(item=item, user=user, now=now)
            # The draft became this revision: it goes in the same transaction (a failed submit keeps it).
            Draft.objects.filter(item=item, user=user).delete()
    except IntegrityError:
        item.refresh_from_db()
        raise _conflict("another revision was saved at the same time", yours=clean, head=item.head_revision,
                        item=item) from None
    item.state = new_state
    item_event(item, "revision.submitted", revision=revision.number, author=user.get_username(),
               edits=revision.edit_count)
    depth_event(item.project_id)
    if new_state == ItemState.ACCEPTED:
        correction_accepted(project_id=item.project_id)
    return revision
