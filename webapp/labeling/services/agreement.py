"""Operator agreement: a share of items (the project's ``double_answer_share``, drawn from the item's id so the
same item always lands the same way) is answered by two operators independently.

The first answer is a revision of the item like any other, but the item then waits (PAIRED) instead of going to
review: take-next hands the second answer to a different operator as a blind copy of the item (its images and
proposal, none of its revisions: ``pair_serving``), so the second operator never sees the first answer and
nobody answers the same item twice. The second answer is scored against the first by the kind's control
measure. Pairs that agree follow the normal review routing with the first answer; a disagreement waits for a
reviewer, who sees both side by side and keeps one or merges (edits starting from one of them). Only the item's
head revision (the first answer, or the kept or merged one written on the item) is ever trained on or exported:
the second answer lives on the copy, which neither reads. The pair row keeps every step: who answered, the
agreement and its measures, who resolved it how and when.
"""
from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.accounts.permissions import require
from webapp.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from webapp.labeling.diff import json_diff
from webapp.labeling.kinds import get_kind
from webapp.labeling.models import AnswerPair, ItemState, Project, Review, Revision, WorkItem
from webapp.labeling.selectors import item_asset_dims, item_model_proposal
from webapp.labeling.selectors_agreement import AGREES_FROM
from webapp.labeling.services.events import depth_event, item_event
from webapp.labeling.services.loop import correction_accepted
from webapp.labeling.services.review_risk import review_by_risk_applies, review_risk_route, review_routing_record
from webapp.labeling.services.revision_write import revision_append
from webapp.labeling.services.suspects import suspect_label_check

DECISIONS = ("keep_first", "keep_second", "merge")


def _double_draw(item_id: int) -> float:
    digest = hashlib.sha256(f"double-answer:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def pair_applies(*, project: Project, item: WorkItem, head: Revision | None) -> bool:
    """Whether this submit is the first of two answers: the item is in the project's double-answer share, is
    no blind copy, and is answered for the first time."""
    share = project.double_answer_share
    return (share > 0 and head is None and not item.control_copy and _double_draw(item.pk) < share
            and not AnswerPair.objects.filter(item_id=item.pk).exists())


def pair_open(*, item: WorkItem, revision: Revision, user) -> AnswerPair:
    return AnswerPair.objects.create(project_id=item.project_id, item_id=item.pk, first_revision=revision,
                                     first_operator=user)


def _accept(*, item: WorkItem, project: Project, revision: Revision) -> None:
    """The item's answer is accepted: it passes the suspect check, and counts as a new correction."""
    suspect_label_check(item_id=item.pk, kind=project.kind, revision=revision,
                        proposal=item_model_proposal(item_id=item.pk), thresholds=project.suspect_thresholds)
    correction_accepted(project_id=project.pk)


def _route_agreed(*, pair: AnswerPair, project: Project) -> str:
    """The pair agrees: the item's (first) answer takes the normal review routing."""
    item, first = pair.item, pair.first_revision
    routing = None
    if review_by_risk_applies(project=project, item=item):
        routing = review_risk_route(project=project, item=item, user=first.author, annotation=first.annotation,
                                    proposal=item_model_proposal(item_id=item.pk), edit_count=first.edit_count,
                                    revision_number=first.number)
        review_routing_record(routing=routing, item=item, revision=first, user=first.author)
    review = project.review_required and (routing is None or routing.reviews)
    state = ItemState.SUBMITTED if review else ItemState.ACCEPTED
    WorkItem.objects.filter(pk=item.pk, state=ItemState.PAIRED).update(state=state, updated_at=timezone.now())
    item.state = state
    if state == ItemState.ACCEPTED:
        _accept(item=item, project=project, revision=first)
    return state


# The control measure names its two sides truth and answer; here they are the first and the second answer.
_SIDES = {"missed": "only_in_first", "extra": "only_in_second"}


def _as_pair_measures(measures: dict) -> dict:
    def name(key: str) -> str:
        if key.startswith("truth_"):
            return "first_" + key[len("truth_"):]
        if key.startswith("answer_"):
            return "second_" + key[len("answer_"):]
        return _SIDES.get(key, key)
    return {name(key): value for key, value in measures.items()}


def pair_second_answer(*, copy_id: int, revision: Revision, project: Project) -> AnswerPair:
    """Score the second answer (a revision of the pair's copy) against the first; an agreeing pair's item goes
    on to review routing, a disagreeing one waits for a reviewer. Call inside the submit's transaction."""
    pair = (AnswerPair.objects.select_for_update(of=("self",)).select_related("item", "first_revision__author")
            .get(second_copy_id=copy_id))
    if pair.state != AnswerPair.State.WAITING:
        raise Conflict(f"the pair of item {pair.item_id} is {pair.state}, not waiting for a second answer")
    spec = get_kind(project.kind)
    measures = (spec.control_score(pair.first_revision.annotation, revision.annotation,
                                   item_asset_dims(item_id=pair.item_id)) if spec.control_score else {})
    pair.agreement = measures.pop("accuracy", None)
    pair.measures, pair.second_revision = _as_pair_measures(measures), revision
    pair.second_operator_id, pair.answered_at = revision.author_id, timezone.now()
    agreed = pair.agreement is None or pair.agreement >= AGREES_FROM
    pair.state = AnswerPair.State.AGREED if agreed else AnswerPair.State.DISAGREED
    pair.save(update_fields=["agreement", "measures", "second_revision", "second_operator", "answered_at", "state"])
    state = _route_agreed(pair=pair, project=project) if agreed else ItemState.PAIRED
    item_event(pair.item, "pair.answered", agreement=pair.agreement, pair=pair.state, state=state)
    depth_event(project.pk)
    return pair


@transaction.atomic
def pair_resolve(*, item_id: int, reviewer, decision: str, annotation=None, merged_from: str = "",
                 comment: str = "") -> AnswerPair:
    """A reviewer settles a disagreement: keep the first answer, keep the second (written on the item as a new
    revision), or merge (``annotation``, the reviewer's edit starting from ``merged_from``: first or second).
    The item is accepted with the kept or merged answer."""
    pair = (AnswerPair.objects.select_for_update(of=("self",))
            .select_related("item__project", "item__head_revision", "first_revision", "second_revision")
            .filter(item_id=item_id).first())
    if pair is None:
        raise NotFound(f"item {item_id} was not answered twice")
    project = pair.item.project
    require(reviewer, "item.review", project_id=project.pk)
    if pair.state != AnswerPair.State.DISAGREED:
        raise Conflict(f"the answers on item {item_id} are {pair.get_state_display().lower()}: nothing to resolve")
    if reviewer.pk in (pair.first_operator_id, pair.second_operator_id):
        raise NotAllowed("you gave one of these answers: another reviewer settles the disagreement")
    if decision not in DECISIONS:
        raise ServiceError(f"decision must be one of {', '.join(DECISIONS)} (got {decision!r})",
                           details={"decision": [f"one of {', '.join(DECISIONS)}"]})
    item, head = pair.item, pair.item.head_revision
    if decision == "merge":
        if merged_from not in ("first", "second"):
            raise ServiceError("a merge starts from the first or the second answer: say which (merged_from)",
                               details={"merged_from": ["first or second"]})
        if annotation is None:
            raise ServiceError("a merge needs the merged annotation", details={"annotation": ["required"]})
    kept = head
    if decision != "keep_first":
        answer = pair.second_revision.annotation if decision == "keep_second" else annotation
        spec = get_kind(project.kind)
        clean = spec.validate(answer, item_asset_dims(item_id=item.pk))
        fields = {"number": head.number + 1, "from_prediction_id": None, "annotation": clean,
                  "diff": {"against": {"revision": head.number}, "changes": json_diff(head.annotation, clean)},
                  "edit_count": spec.count_edits(head.annotation, clean) if spec.count_edits else 0}
        try:
            kept = revision_append(item=item, head=head, user=reviewer, new_state=ItemState.ACCEPTED,
                                   now=timezone.now(), fields=fields)
        except IntegrityError:
            raise Conflict(f"item {item_id} changed meanwhile; reload it") from None
    else:
        moved = WorkItem.objects.filter(pk=item.pk, state=ItemState.PAIRED, head_revision=head).update(
            state=ItemState.ACCEPTED, updated_at=timezone.now())
        if not moved:
            raise Conflict(f"item {item_id} changed meanwhile; reload it")
    item.state = ItemState.ACCEPTED
    label = dict(AnswerPair.Resolution.choices)
    resolution = {"keep_first": AnswerPair.Resolution.KEPT_FIRST, "keep_second": AnswerPair.Resolution.KEPT_SECOND,
                  "merge": AnswerPair.Resolution.MERGED}[decision]
    Review.objects.create(item=item, revision=kept, reviewer=reviewer, decision=Review.Decision.ACCEPT,
                          comment=(f"{label[resolution]}. {comment}" if comment else label[resolution]).strip())
    pair.state, pair.resolution, pair.resolved_by = AnswerPair.State.RESOLVED, resolution, reviewer
    pair.merged_from = merged_from if decision == "merge" else ""
    pair.resolved_revision, pair.resolved_at, pair.comment = kept, timezone.now(), comment
    pair.save(update_fields=["state", "resolution", "resolved_by", "merged_from", "resolved_revision",
                             "resolved_at", "comment"])
    _accept(item=item, project=project, revision=kept)
    item_event(item, "pair.resolved", resolution=resolution, reviewer=reviewer.get_username(), revision=kept.number)
    depth_event(project.pk)
    return pair
