"""Reviews: a reviewer accepts submitted work or sends it back with a comment."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from webapp.accounts.permissions import require
from webapp.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from webapp.labeling.models import ItemState, Review, WorkItem
from webapp.labeling.selectors import item_model_proposal
from webapp.labeling.services.events import depth_event, item_event
from webapp.labeling.services.loop import correction_accepted
from webapp.labeling.services.suspects import suspect_label_check


@transaction.atomic
def review_submit(*, item_id: int, reviewer, decision: str, comment: str = "", revision: int | None = None) -> Review:
    try:
        item = (WorkItem.objects.select_related("head_revision", "project").select_for_update(of=("self",))
                .get(pk=item_id))
    except WorkItem.DoesNotExist:
        raise NotFound(f"no work item {item_id}") from None
    require(reviewer, "item.review", project_id=item.project_id)
    head = item.head_revision
    if item.control_copy:
        raise Conflict(f"item {item.pk} is an operator's answer on a control item: scored, never reviewed")
    if item.state != ItemState.SUBMITTED or head is None:
        raise Conflict(f"item {item.pk} is {item.state}, not waiting for review")
    if revision is not None and revision != head.number:
        raise Conflict(f"revision {revision} is not the one under review (that is {head.number})",
                       details={"current": {"number": head.number, "annotation": head.annotation}})
    if head.author_id == reviewer.pk:
        raise NotAllowed("you cannot review your own work")
    if decision not in Review.Decision.values:
        raise ServiceError(f"decision must be one of {', '.join(Review.Decision.values)}")
    if decision == Review.Decision.SEND_BACK and not comment.strip():
        raise ServiceError("say what to fix: sending back needs a comment")
    review = Review.objects.create(item=item, revision=head, reviewer=reviewer, decision=decision, comment=comment)
    item.state = ItemState.ACCEPTED if decision == Review.Decision.ACCEPT else ItemState.SENT_BACK
    WorkItem.objects.filter(pk=item.pk).update(state=item.state, updated_at=timezone.now())
    item_event(item, "review.done", decision=decision, reviewer=reviewer.get_username(), revision=head.number)
    depth_event(item.project_id)
    if item.state == ItemState.ACCEPTED:
        suspect_label_check(item_id=item.pk, kind=item.project.kind, revision=head,
                            proposal=item_model_proposal(item_id=item.pk), thresholds=item.project.suspect_thresholds,
                            project_id=item.project_id)
        correction_accepted(project_id=item.project_id)
    return review
