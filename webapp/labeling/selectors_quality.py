"""Reads of label quality: which control item an operator gets next, each operator's control accuracy over
time, the suspect labels awaiting re-review, and review by risk (recent risks, the risk-ordered review
queue, the routing decisions)."""
from __future__ import annotations

from collections import defaultdict
from statistics import mean

from django.db.models import Avg, Count, Exists, F, JSONField, OuterRef, Q, Subquery

from webapp.labeling.kinds import get_kind, suspect_thresholds_effective
from webapp.labeling.models import (
    ControlAnswer, ControlItem, ControlMarkEvent, ItemState, Prediction, Project, ReviewRouting, ReviewSettingsChange,
    SuspectLabel, WorkItem,
)
from webapp.labeling.selectors_agreement import agreement_summary

SERIES_LENGTH = 100   # the latest answers per operator drawn over time
RECENT_CONTROLS = 20  # an operator's accuracy for review by risk: their latest answers, so that it can recover
LEARN_FROM = 300      # a learned suspect threshold: the project's latest accepted answers it rests on
LEARN_MIN = 20        # confidences a threshold needs before it is learned (the kind's default until then)


def control_next_id(*, project_id: int, user) -> int | None:
    """A control item of the project this operator has never been served and whose truth they did not
    write, at random; None when none is left. (On PostgreSQL take-next asks the same in its one statement.)"""
    pick = (ControlItem.objects.filter(project_id=project_id, active=True)
            .exclude(answers__operator=user).exclude(truth__author=user).order_by("?").values_list("pk", flat=True))
    return pick.first()


def control_list(*, project_id: int) -> list[dict]:
    rows = (ControlItem.objects.filter(project_id=project_id).select_related("marked_by", "truth")
            .annotate(served=Count("answers"), answered=Count("answers", filter=Q(answers__accuracy__isnull=False)),
                      accuracy=Avg("answers__accuracy")).order_by("id"))
    history: dict[int, list[dict]] = defaultdict(list)
    for e in (ControlMarkEvent.objects.filter(control__project_id=project_id).select_related("actor", "truth")
              .order_by("id")):
        history[e.control_id].append({"active": e.active, "by": e.actor.get_username() if e.actor else None,
                                      "truth_revision": e.truth.number, "at": e.created_at.isoformat()})
    return [{"id": c.pk, "item": c.item_id, "active": c.active, "truth_revision": c.truth.number,
             "marked_by": c.marked_by.get_username(), "served": c.served, "answered": c.answered,
             "mean_accuracy": None if c.accuracy is None else round(c.accuracy, 4), "history": history[c.pk]}
            for c in rows]


def review_settings_changes(*, project_id: int, limit: int = 50) -> list[dict]:
    """The project's latest audited changes of its label-quality settings, newest first."""
    rows = ReviewSettingsChange.objects.filter(project_id=project_id).select_related("actor").order_by("-id")
    return [{"id": c.pk, "changes": [{"field": name, "old": old, "new": new} for name, (old, new) in c.changes.items()],
             "actor": c.actor.get_username() if c.actor else None, "reason": c.reason,
             "created_at": c.created_at.isoformat()} for c in rows[:limit]]


def operator_quality(*, project_id: int) -> list[dict]:
    """Per operator of the project: answered control items, mean accuracy, and the answers over time (the
    latest ``SERIES_LENGTH``, oldest first) and per day."""
    rows = (ControlAnswer.objects.filter(control__project_id=project_id, accuracy__isnull=False)
            .select_related("operator").order_by("answered_at", "id"))
    per: dict[str, list[ControlAnswer]] = defaultdict(list)
    for answer in rows:
        per[answer.operator.get_username()].append(answer)
    out = []
    for name in sorted(per):
        answers = per[name]
        days: dict[str, list[float]] = defaultdict(list)
        for a in answers:
            days[a.answered_at.date().isoformat()].append(a.accuracy)
        out.append({
            "operator": name, "answered": len(answers), "accuracy": round(mean(a.accuracy for a in answers), 4),
            "series": [{"answered_at": a.answered_at.isoformat(), "accuracy": a.accuracy, "item": a.copy_id}
                       for a in answers[-SERIES_LENGTH:]],
            "days": [{"day": day, "answered": len(values), "accuracy": round(mean(values), 4)}
                     for day, values in sorted(days.items())],
        })
    return out


def project_quality(*, project: Project) -> dict:
    """What the quality page and API show: the operators' control accuracy, the control items with their
    history, the operators' agreement on items answered twice, and the audited settings changes."""
    spec = get_kind(project.kind)
    score = spec.control_score
    learned = suspect_thresholds_learned(project_id=project.pk, kind=project.kind)
    effective = suspect_thresholds_effective(project.kind, project.suspect_thresholds,
                                             {name: v["value"] for name, v in learned.items()})
    return {"project": project.pk, "kind": project.kind, "control_rate": project.control_rate,
            "review_required": project.review_required, "review_sample_share": project.review_sample_share,
            "review_full_below_accuracy": project.review_full_below_accuracy,
            "review_audit_share": project.review_audit_share, "double_answer_share": project.double_answer_share,
            "suspect_thresholds": [{"name": t.name, "label": t.label, "value": effective[t.name],
                                    "default": t.default, "minimum": t.minimum, "maximum": t.maximum,
                                    "integer": t.integer, "set_by_project": t.name in project.suspect_thresholds,
                                    "learned": (learned.get(t.name) or {}).get("value"),
                                    "learned_from": (learned.get(t.name) or {}).get("confidences", 0)}
                                   for t in spec.suspect_thresholds],
            "measure": (score.__doc__ or "").strip().split("\n")[0] if score else "not scored for this kind",
            "operators": operator_quality(project_id=project.pk), "controls": control_list(project_id=project.pk),
            "agreement": agreement_summary(project=project),
            "settings_changes": review_settings_changes(project_id=project.pk)}


def suspect_thresholds_learned(*, project_id: int, kind: str) -> dict[str, dict]:
    """Per suspect threshold the kind learns, the current model's mean confidence in what the project's
    latest accepted answers say (``KindSpec.suspect_self_confidence``): ``{name: {"value", "confidences"}}``
    for those with at least ``LEARN_MIN`` confidences. Only fresh predictions count: the thresholds belong
    to the model that proposes now. Neither operators' copies of control items nor answers waiting for
    re-review as suspect labels count: they are not answers training may use."""
    spec = get_kind(kind)
    if spec.suspect_self_confidence is None:
        return {}
    latest = (Prediction.objects.filter(item=OuterRef("pk"), source=Prediction.Source.MODEL, stale=False)
              .order_by("-id").values("scores")[:1])
    rows = (WorkItem.objects.filter(project_id=project_id, state=ItemState.ACCEPTED, control_copy=False,
                                    head_revision__isnull=False)
            .exclude(Exists(SuspectLabel.objects.filter(item=OuterRef("pk"), state=SuspectLabel.State.OPEN)))
            .annotate(model_scores=Subquery(latest, output_field=JSONField())).filter(model_scores__isnull=False)
            .order_by("-updated_at").values_list("head_revision__annotation", "model_scores")[:LEARN_FROM])
    found: dict[str, list[float]] = defaultdict(list)
    for annotation, scores in rows:
        for name, values in spec.suspect_self_confidence(annotation or {}, scores or {}).items():
            found[name] += values
    return {name: {"value": round(mean(values), 4), "confidences": len(values)}
            for name, values in found.items() if len(values) >= LEARN_MIN}


def operator_control_accuracy(*, project_id: int, user_id: int | None) -> dict:
    """One operator's mean control accuracy in the project and how many answers it rests on."""
    found = ControlAnswer.objects.filter(control__project_id=project_id, operator_id=user_id,
                                         accuracy__isnull=False).aggregate(n=Count("id"), accuracy=Avg("accuracy"))
    return {"answered": found["n"], "accuracy": None if found["accuracy"] is None else round(found["accuracy"], 4)}


def suspect_list(*, project_id: int, state: str | None = SuspectLabel.State.OPEN) -> list[dict]:
    """Suspect labels of the project (open ones by default), newest first, with why each was flagged: the
    model's proposal and confidence, and the answer's author with their control accuracy."""
    qs = SuspectLabel.objects.filter(item__project_id=project_id).select_related(
        "revision__author", "resolved_by", "prediction__model_version")
    if state:
        qs = qs.filter(state=state)
    accuracy: dict[int | None, dict] = {}
    out = []
    for s in qs.order_by("-id"):
        author = s.revision.author
        key = author.pk if author else None
        if key not in accuracy:
            accuracy[key] = operator_control_accuracy(project_id=project_id, user_id=key)
        prediction: Prediction | None = s.prediction
        out.append({
            "id": s.pk, "item": s.item_id, "revision": s.revision.number, "state": s.state,
            "author": author.get_username() if author else None, "author_control": accuracy[key],
            "confidence": s.confidence, "why": s.why, "answer": s.revision.annotation,
            "proposal": prediction.payload if prediction else None,
            "model_version": prediction.model_version.number if prediction and prediction.model_version else None,
            "created_at": s.created_at.isoformat(),
            "resolved_by": s.resolved_by.get_username() if s.resolved_by else None,
            "resolved_at": s.resolved_at.isoformat() if s.resolved_at else None, "comment": s.comment,
        })
    return out


def suspect_open_get(*, item_id: int) -> SuspectLabel | None:
    """The item's suspect label waiting for re-review, with its project and the model's proposal."""
    return (SuspectLabel.objects.filter(item_id=item_id, state=SuspectLabel.State.OPEN)
            .select_related("item__project", "prediction").first())


def item_project_id(*, item_id: int) -> int | None:
    return WorkItem.objects.filter(pk=item_id).values_list("project_id", flat=True).first()


def operator_recent_control_accuracy(*, project_id: int, user_id: int | None, last: int = RECENT_CONTROLS) -> dict:
    """One operator's mean control accuracy over their latest ``last`` answers in the project (what review
    by risk weighs, so that an operator who improves recovers) and how many answers it rests on."""
    values = list(ControlAnswer.objects.filter(control__project_id=project_id, operator_id=user_id,
                                               accuracy__isnull=False)
                  .order_by("-answered_at", "-id").values_list("accuracy", flat=True)[:last])
    return {"answered": len(values), "accuracy": round(mean(values), 4) if values else None}


def review_recent_risks(*, project_id: int, last: int) -> list[float]:
    """The risk scores of the project's latest ``last`` routing decisions."""
    return list(ReviewRouting.objects.filter(project_id=project_id).order_by("-id")
                .values_list("risk", flat=True)[:last])


def _why(parts: dict) -> list[str]:
    """The risk's parts as a reviewer reads them."""
    accuracy = parts.get("operator_accuracy")
    out = [f"operator control accuracy {accuracy:.2f} over {parts.get('operator_answers')} answers"
           if accuracy is not None else "operator has no control answer yet"]
    if parts.get("disagreement_from") == "model":
        out.append(f"model contradicts the answer with confidence {parts.get('disagreement', 0):.2f}")
    else:
        out.append(f"{parts.get('edits', 0)} edit(s) against the proposal")
    out.append(f"item uncertainty {parts.get('uncertainty', 0):.2f}")
    return out


def _routing_row(r: ReviewRouting) -> dict:
    return {"id": r.pk, "item": r.item_id, "revision": r.revision.number,
            "operator": r.operator.get_username() if r.operator else None, "decision": r.decision,
            "reason": r.reason, "reason_label": r.get_reason_display(), "risk": r.risk, "parts": r.parts,
            "why": _why(r.parts), "sample_share": r.sample_share, "created_at": r.created_at.isoformat()}


def review_routing_list(*, project_id: int, decision: str | None = None, limit: int = 200) -> list[dict]:
    """The project's latest routing decisions (the audit trail of review by risk), newest first."""
    qs = ReviewRouting.objects.filter(project_id=project_id).select_related("revision", "operator")
    if decision:
        qs = qs.filter(decision=decision)
    return [_routing_row(r) for r in qs.order_by("-id")[:limit]]


def review_queue(*, project_id: int, limit: int = 200) -> list[dict]:
    """The items waiting for review, riskiest first, each with the routing of its answer under review (items
    submitted while the project reviewed everything have none: they follow, oldest first)."""
    routing = ReviewRouting.objects.filter(revision_id=OuterRef("head_revision_id"))
    items = (WorkItem.objects.filter(project_id=project_id, state=ItemState.SUBMITTED, control_copy=False)
             .select_related("head_revision__author")
             .annotate(routing_id=Subquery(routing.values("id")[:1]), risk=Subquery(routing.values("risk")[:1]))
             .order_by(F("risk").desc(nulls_last=True), "id")[:limit])
    items = list(items)
    routings = {r.pk: r for r in ReviewRouting.objects.filter(pk__in=[i.routing_id for i in items if i.routing_id])
                .select_related("revision", "operator")}
    out = []
    for item in items:
        head = item.head_revision
        found = routings.get(item.routing_id)
        out.append({"item": item.pk, "external_id": item.external_id, "revision": head.number if head else None,
                    "author": head.author.get_username() if head and head.author else None,
                    "submitted_at": head.created_at.isoformat() if head else None,
                    "routing": _routing_row(found) if found else None})
    return out
