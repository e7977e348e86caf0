"""Revisions: append-only annotation states. A save based on a stale revision is refused with both."""
from __future__ import annotations

from contextlib import nullcontext

from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.accounts.permissions import require
from webapp.core.errors import Conflict, NotFound
from webapp.labeling.diff import json_diff
from webapp.labeling.kinds import get_kind
from webapp.labeling.models import QUEUEABLE_STATES, AnswerPair, ItemState, Lease, Prediction, Revision, WorkItem
from webapp.labeling.selectors import item_for_submit, item_model_proposal
from webapp.labeling.services.agreement import pair_applies, pair_open, pair_second_answer
from webapp.labeling.services.controls import control_answer_score
from webapp.labeling.services.events import depth_event, item_event
from webapp.labeling.services.loop import correction_accepted
from webapp.labeling.services.review_risk import review_by_risk_applies, review_risk_route, review_routing_record
from webapp.labeling.services.revision_write import revision_append
from webapp.labeling.services.suspects import suspect_label_judge, suspect_label_record


def _conflict(message: str, *, yours: dict, head: Revision | None, item: WorkItem) -> Conflict:
    current = None if head is None else {
        "number": head.number, "annotation": head.annotation,
        "author": head.author.get_username() if head.author else None,
        "created_at": head.created_at.isoformat()}
    return Conflict(message, details={"item": item.pk, "yours": yours, "current": current})


def _holds_lease(item: WorkItem, user) -> bool:
    """The user holds the item's lease, or held it last and it lapsed with nobody taking the item since
    (no work is lost to an expired lease; nobody skips the queue onto an item they never took)."""
    if item.state == ItemState.LEASED:
        return item.lease_holder_id == user.pk
    if item.state not in QUEUEABLE_STATES:
        return False
    last = Lease.objects.filter(item=item).order_by("-id").only("holder_id", "end_reason").first()
    return last is not None and last.holder_id == user.pk and last.end_reason == Lease.End.EXPIRED


def _score_copy_answer(*, item: WorkItem, revision: Revision, project) -> None:
    """An answer on a blind copy: the second answer of a pair, or an answer on a control item."""
    if AnswerPair.objects.filter(second_copy_id=item.pk).exists():
        pair_second_answer(copy_id=item.pk, revision=revision, project=project)
    else:
        control_answer_score(item_id=item.pk, revision=revision, kind=project.kind)


def revision_submit(*, item_id: int, user, annotation, base_revision: int | None,
                    from_prediction_id: int | None = None, require_lease: bool = True) -> Revision:
    """Validate and append a revision made by ``user`` on top of ``base_revision`` (a number, or None
    for the first one). The user must hold the item's lease (see ``_holds_lease``); ``require_lease=False``
    is for trusted seeding only (reference annotations of the demo and the benchmarks), never the API.
    Refused with HTTP 409 and both versions when ``base_revision`` is not the current one."""
    try:
        item, dims, proposal_of_model = item_for_submit(item_id=item_id)
    except WorkItem.DoesNotExist:
        raise NotFound(f"no work item {item_id}") from None
    require(user, "item.label", project_id=item.project_id)
    spec = get_kind(item.project.kind)
    clean = spec.validate(annotation, dims)
    head = item.head_revision
    if (head.number if head else None) != base_revision:
        raise _conflict(f"this item changed since revision {base_revision}: the current revision is "
                        f"{head.number if head else 'none'}", yours=clean, head=head, item=item)
    if item.state == ItemState.ACCEPTED:
        raise _conflict("this item was accepted already", yours=clean, head=head, item=item)
    if item.state == ItemState.SUBMITTED:
        raise _conflict("this item is waiting for review", yours=clean, head=head, item=item)
    if item.state == ItemState.PAIRED:
        raise _conflict("this item waits for a second operator's answer", yours=clean, head=head, item=item)
    if item.state == ItemState.FLAGGED:
        raise _conflict("this item is flagged: a reviewer resolves the flag first", yours=clean, head=head, item=item)
    now = timezone.now()
    if item.state == ItemState.LEASED and item.lease_holder_id != user.pk and item.lease_expires_at > now:
        raise _conflict("another operator holds this item", yours=clean, head=head, item=item)
    if require_lease and not _holds_lease(item, user):
        raise _conflict("you do not hold this item's lease: take it from the queue first", yours=clean, head=head,
                        item=item)
    proposal, source, prediction = None, {}, None
    if from_prediction_id is not None:
        prediction = Prediction.objects.filter(pk=from_prediction_id, item=item).only("id", "payload", "scores").first()
        if prediction is None:
            raise NotFound(f"no prediction {from_prediction_id} for item {item.pk}")
        proposal, source = prediction.payload, {"prediction": prediction.pk}
    elif head is not None:
        proposal, source = head.annotation, {"revision": head.number}
    project = item.project
    fields = {"number": (head.number + 1) if head else 1, "from_prediction_id": from_prediction_id,
              "annotation": clean, "diff": {"against": source, "changes": json_diff(proposal, clean)},
              "edit_count": spec.count_edits(proposal, clean) if spec.count_edits else 0}
    if spec.revision_metrics is not None:
        answered = {"id": prediction.pk, "payload": prediction.payload, "scores": prediction.scores} \
            if prediction is not None else proposal_of_model or item_model_proposal(item_id=item.pk)
        fields["metrics"] = spec.revision_metrics(item_id=item.pk, answer=clean, proposal=answered,
                                                  meta=item.meta or {}, dims=dims)
    # The first of two blind answers waits for the second before any review routing (services.agreement).
    opens_pair = pair_applies(project=project, item=item, head=head)
    routing = review_risk_route(project=project, item=item, user=user, annotation=clean, proposal=proposal_of_model,
                                edit_count=fields["edit_count"], revision_number=fields["number"]) \
        if review_by_risk_applies(project=project, item=item) and not opens_pair else None
    review = project.review_required and (routing is None or routing.reviews)
    new_state = ItemState.PAIRED if opens_pair else ItemState.SUBMITTED if review else ItemState.ACCEPTED
    accepts = new_state == ItemState.ACCEPTED and not item.control_copy
    # Every acceptance, with review or without, passes the suspect-label check before training may use it.
    suspect = suspect_label_judge(kind=project.kind, annotation=clean, proposal=proposal_of_model,
                                  thresholds=project.suspect_thresholds, project_id=project.pk) if accepts else None
    try:
        # An answer on a control item's copy is written with its score, a suspect answer with its suspect label
        # (training never sees it unflagged), a routed answer with its routing; all or nothing. Every other
        # submit stays one statement.
        with transaction.atomic() if item.control_copy or suspect or routing or opens_pair else nullcontext():
            revision = revision_append(item=item, head=head, user=user, new_state=new_state, now=now, fields=fields)
            if item.control_copy:
                _score_copy_answer(item=item, revision=revision, project=project)
            if opens_pair:
                pair_open(item=item, revision=revision, user=user)
            if routing:
                review_routing_record(routing=routing, item=item, revision=revision, user=user)
            if suspect:
                suspect_label_record(item_id=item.pk, revision=revision, proposal=proposal_of_model, why=suspect)
    except IntegrityError:
        item.refresh_from_db()
        moved_head = item.head_revision_id != (head.pk if head else None)
        raise _conflict("another revision was saved at the same time" if moved_head else
                        "the item was taken from the queue meanwhile", yours=clean, head=item.head_revision,
                        item=item) from None
    item.state = new_state
    item_event(item, "revision.submitted", revision=revision.number, author=user.get_username(),
               edits=revision.edit_count, **({"review": routing.decision, "risk": routing.risk} if routing else {}))
    depth_event(item.project_id)
    if accepts:
        correction_accepted(project_id=item.project_id)
    return revision
