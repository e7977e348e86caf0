"""Review by risk: when a project samples its reviews (``review_sample_share`` below 1), each submitted answer
gets a risk score and either goes to a reviewer (SUBMITTED, as always) or is accepted without review. The
decision and the score's parts are written with the revision (``ReviewRouting``): the audit trail, and the
order of the review queue (riskiest first).

The risk is a weighted sum of three parts, each in 0..1:
- operator: 1 minus the operator's control accuracy over their latest answers (``UNKNOWN_OPERATOR`` before
  any), so a careless operator's work rises;
- disagreement: how confidently the model's fresh proposal contradicts the answer, asked of the kind's own
  suspect check with every threshold open; without a proposal or a check, the answer's edits against what
  it started from (``EDITS_FOR_FULL_DISAGREEMENT`` edits or more count as full disagreement);
- uncertainty: the item's uncertainty from its latest prediction (``UNKNOWN_UNCERTAINTY`` before any).

An answer is reviewed when its operator's recent control accuracy is below the project's floor (full review
until it recovers), when fewer than the sampled share of the project's latest ``WINDOW`` decisions were at
least as risky (deterministic: the same history gives the same decision; the first answer of a project is
reviewed, and the share settles as the history fills), or when its audit draw (a hash of item and revision
number, so also reproducible) falls under the project's ``review_audit_share`` (5 % unless set): low-risk work
is seen too. An answer accepted
without review still passes the suspect-label check before training may use it (``revision_submit`` runs it
on every acceptance).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from webapp.labeling.kinds import get_kind
from webapp.labeling.models import Project, ReviewRouting, Revision, WorkItem
from webapp.labeling.selectors_quality import operator_recent_control_accuracy, review_recent_risks

# Disagreement weighs most: a calibrated model's confidence against the answer is the chance the answer is
# wrong. Uncertainty weighs least: where it comes from the same scores (catheter: 1 - |2p - 1|), a heavier
# weight would cancel the disagreement and rank a confident contradiction no higher than a coin toss.
WEIGHTS = {"operator": 0.4, "disagreement": 0.5, "uncertainty": 0.1}
UNKNOWN_OPERATOR = 0.5       # no control answered yet: neither trusted nor suspected
UNKNOWN_UNCERTAINTY = 0.5    # never predicted
EDITS_FOR_FULL_DISAGREEMENT = 5
WINDOW = 200                 # the sampled share is a rank among this many of the project's latest decisions


@dataclass(frozen=True)
class Routing:
    decision: str
    reason: str
    risk: float
    parts: dict
    sample_share: float

    @property
    def reviews(self) -> bool:
        return self.decision == ReviewRouting.Decision.REVIEW


def review_by_risk_applies(*, project: Project, item: WorkItem) -> bool:
    """Whether a submit on ``item`` is routed by risk: review required, a sampled share below 1, and not an
    operator's blind copy of a control item (scored, never reviewed)."""
    return project.review_required and project.review_sample_share < 1 and not item.control_copy


def _disagreement(*, kind: str, annotation: dict, proposal: dict | None, edit_count: int) -> dict:
    spec = get_kind(kind)
    if proposal is not None and spec.suspect_check is not None:
        opened = {t.name: (1 if t.integer else 0.0) for t in spec.suspect_thresholds}
        why = spec.suspect_check(annotation, proposal["payload"], proposal["scores"] or {}, opened)
        confidence = float(why["confidence"]) if why else 0.0
        return {"disagreement": round(min(1.0, max(0.0, confidence)), 4), "disagreement_from": "model",
                "model_prediction": proposal["id"], "edits": edit_count}
    return {"disagreement": round(min(1.0, edit_count / EDITS_FOR_FULL_DISAGREEMENT), 4),
            "disagreement_from": "edits", "edits": edit_count}


def _audit_draw(*, item_id: int, revision_number: int) -> float:
    digest = hashlib.sha256(f"review-audit:{item_id}:{revision_number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def review_risk_route(*, project: Project, item: WorkItem, user, annotation: dict, proposal: dict | None,
                      edit_count: int, revision_number: int) -> Routing:
    """Score the answer and decide whether a reviewer sees it. Reads the operator's recent control accuracy
    and the project's latest risks; writes nothing (``review_routing_record`` does, with the revision)."""
    control = operator_recent_control_accuracy(project_id=project.pk, user_id=user.pk)
    accuracy = control["accuracy"]
    uncertainty = item.uncertainty
    parts = {
        "operator": round(UNKNOWN_OPERATOR if accuracy is None else 1.0 - accuracy, 4),
        "operator_accuracy": accuracy, "operator_answers": control["answered"],
        **_disagreement(kind=project.kind, annotation=annotation, proposal=proposal, edit_count=edit_count),
        "uncertainty": round(UNKNOWN_UNCERTAINTY if uncertainty is None else min(1.0, max(0.0, uncertainty)), 4),
        "weights": WEIGHTS,
    }
    risk = round(sum(weight * parts[name] for name, weight in WEIGHTS.items()), 4)
    recent = review_recent_risks(project_id=project.pk, last=WINDOW)
    # At least as risky: answers of equal risk do not all go to review (a run of identical low risks would).
    riskier = sum(1 for r in recent if r >= risk)
    share = project.review_sample_share
    draw = _audit_draw(item_id=item.pk, revision_number=revision_number)
    parts.update(riskier=riskier, window=len(recent) + 1, audit_draw=round(draw, 4))
    if accuracy is not None and accuracy < project.review_full_below_accuracy:
        decision, reason = ReviewRouting.Decision.REVIEW, ReviewRouting.Reason.OPERATOR_BELOW_FLOOR
    elif riskier < share * (len(recent) + 1):
        decision, reason = ReviewRouting.Decision.REVIEW, ReviewRouting.Reason.RISK_IN_SAMPLE
    elif draw < project.review_audit_share:
        decision, reason = ReviewRouting.Decision.REVIEW, ReviewRouting.Reason.AUDIT
    else:
        decision, reason = ReviewRouting.Decision.ACCEPT, ReviewRouting.Reason.LOW_RISK
    return Routing(decision=decision, reason=reason, risk=risk, parts=parts, sample_share=share)


def review_routing_record(*, routing: Routing, item: WorkItem, revision: Revision, user) -> ReviewRouting:
    return ReviewRouting.objects.create(project_id=item.project_id, item_id=item.pk, revision=revision,
                                        operator=user, decision=routing.decision, reason=routing.reason,
                                        risk=routing.risk, parts=routing.parts, sample_share=routing.sample_share)
