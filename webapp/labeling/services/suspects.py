"""Suspect labels: an accepted answer that the champion contradicts with high confidence (the kind's
``suspect_check``, per-class thresholds in the spirit of confident learning) waits for a second review
before training may use it (``selectors_loop`` leaves items with an open suspect out of every run).

A reviewer confirms the answer as it is or corrects it (a new revision, the reviewer its author); either
way the item counts as a new correction again. Who decided what, when and why stays on the suspect row.
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from webapp.accounts.permissions import require
from webapp.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from webapp.labeling.diff import json_diff
from webapp.labeling.kinds import get_kind, suspect_thresholds_effective
from webapp.labeling.models import ItemState, Revision, SuspectLabel, WorkItem
from webapp.labeling.selectors import item_asset_dims
from webapp.labeling.selectors_quality import suspect_thresholds_learned
from webapp.labeling.services.loop import correction_accepted

DECISIONS = ("confirm", "correct")


def suspect_label_judge(*, kind: str, annotation: dict, proposal: dict | None,
                        thresholds: dict | None = None, project_id: int | None = None) -> dict | None:
    """Why the model's fresh proposal (``{"id", "payload", "scores"}``) contradicts the answer with high
    confidence (``{"confidence", ...}``), or None, by the project's suspect ``thresholds``; for those it does
    not set, the ones learned from its accepted answers (with ``project_id``), else the kind's defaults.
    Writes nothing: a submit judges before it writes, so that a suspect answer and its suspect label are
    written together."""
    spec = get_kind(kind)
    if spec.suspect_check is None or proposal is None:
        return None
    learned = {} if project_id is None else {
        name: v["value"] for name, v in suspect_thresholds_learned(project_id=project_id, kind=kind).items()}
    return spec.suspect_check(annotation, proposal["payload"], proposal["scores"] or {},
                              suspect_thresholds_effective(kind, thresholds, learned))


def suspect_label_record(*, item_id: int, revision: Revision, proposal: dict, why: dict) -> SuspectLabel | None:
    """Hold the accepted answer for re-review. Golden items are the frozen yardstick, not training data:
    never flagged."""
    if WorkItem.objects.filter(pk=item_id, split=WorkItem.Split.GOLDEN).exists():
        return None
    why = dict(why)
    confidence = float(why.pop("confidence"))
    return SuspectLabel.objects.create(item_id=item_id, revision=revision, prediction_id=proposal["id"],
                                       confidence=confidence, why=why)


def suspect_label_check(*, item_id: int, kind: str, revision: Revision, proposal: dict | None,
                        thresholds: dict | None = None, project_id: int | None = None) -> SuspectLabel | None:
    """An item's answer (``revision``) was just accepted: flag it when the item's fresh model proposal
    contradicts it with high confidence (by the project's ``thresholds``, else those learned in it)."""
    why = suspect_label_judge(kind=kind, annotation=revision.annotation, proposal=proposal, thresholds=thresholds,
                              project_id=project_id)
    return None if why is None else suspect_label_record(item_id=item_id, revision=revision, proposal=proposal,
                                                         why=why)


@transaction.atomic
def suspect_label_resolve(*, item_id: int, reviewer, decision: str, annotation=None, comment: str = "") -> SuspectLabel:
    """Confirm the suspect answer of the item, or correct it with ``annotation`` (validated as a revision)."""
    item = WorkItem.objects.select_related("project").filter(pk=item_id).first()
    if item is None:
        raise NotFound(f"no work item {item_id}")
    require(reviewer, "item.review", project_id=item.project_id)
    if decision not in DECISIONS:
        raise ServiceError(f"decision must be one of {', '.join(DECISIONS)}")
    suspect = (SuspectLabel.objects.select_for_update(of=("self",)).select_related("revision")
               .filter(item=item, state=SuspectLabel.State.OPEN).first())
    if suspect is None:
        raise Conflict(f"item {item_id} has no suspect label waiting for re-review")
    if suspect.revision.author_id == reviewer.pk:
        raise NotAllowed("you cannot re-review your own answer")
    if item.head_revision_id != suspect.revision_id or item.state != ItemState.ACCEPTED:
        raise Conflict(f"item {item_id} changed since it was flagged")
    now = timezone.now()
    if decision == "correct":
        if annotation is None:
            raise ServiceError("a correction needs the corrected annotation")
        spec = get_kind(item.project.kind)
        clean = spec.validate(annotation, item_asset_dims(item_id=item.pk))
        head = suspect.revision
        fixed = Revision.objects.create(
            item=item, number=head.number + 1, base=head, author=reviewer, source=Revision.Source.HUMAN,
            annotation=clean, diff={"against": {"revision": head.number}, "changes": json_diff(head.annotation, clean)},
            edit_count=spec.count_edits(head.annotation, clean) if spec.count_edits else 0)
        WorkItem.objects.filter(pk=item.pk).update(head_revision=fixed, updated_at=now)
        suspect.resolution_revision = fixed
    else:
        # The acceptance time is what makes a correction new to the next training run.
        WorkItem.objects.filter(pk=item.pk).update(updated_at=now)
    suspect.state = SuspectLabel.State.CONFIRMED if decision == "confirm" else SuspectLabel.State.CORRECTED
    suspect.resolved_by, suspect.resolved_at, suspect.comment = reviewer, now, comment
    suspect.save(update_fields=["state", "resolved_by", "resolved_at", "resolution_revision", "comment"])
    correction_accepted(project_id=item.project_id)
    return suspect
