"""Reads of operator agreement: which waiting pair an operator answers next, agreement per operator pair (by the
kind's own measure), the disagreements waiting for a reviewer, and one pair side by side."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import mean

from django.db.models import Q

from webapp.labeling.kinds import get_kind
from webapp.labeling.models import AnswerPair, ItemState, Lease

# An answer pair agrees when the kind's measure of one answer against the other reaches this.
AGREES_FROM = 0.9


def pair_next_id(*, project_id: int, user, now: datetime, skip_since: datetime) -> int | None:
    """The oldest pair of the project waiting for a second answer that ``user`` may give: they did not answer
    it first, nobody holds its copy, and they did not skip it a moment ago. (On PostgreSQL take-next asks the
    same in its one statement.)"""
    free = (Q(second_copy__isnull=True) | Q(second_copy__state__in=(ItemState.NEW, ItemState.PREDICTED))
            | Q(second_copy__state=ItemState.LEASED, second_copy__lease_expires_at__lt=now))
    skipped = Lease.objects.filter(holder=user, end_reason=Lease.End.SKIPPED, ended_at__gte=skip_since,
                                   item__control_copy=True).values("item_id")
    return (AnswerPair.objects.filter(free, project_id=project_id, state=AnswerPair.State.WAITING)
            .exclude(first_operator=user).exclude(second_copy__in=skipped)
            .order_by("id").values_list("pk", flat=True).first())


def _means(measures: list[dict]) -> dict:
    """Each numeric or yes/no measure's mean over the pairs that have it (a yes/no one as the share of yes)."""
    values: dict[str, list[float]] = defaultdict(list)
    for m in measures:
        for key, value in m.items():
            if isinstance(value, (bool, int, float)) and value is not None:
                values[key].append(float(value))
    return {key: round(mean(v), 4) for key, v in sorted(values.items())}


def agreement_summary(*, project) -> dict:
    """Agreement of the project's answered pairs, per pair of operators and overall, by the kind's control
    measure, and how many pairs wait for an answer or a reviewer."""
    spec = get_kind(project.kind)
    pairs = (AnswerPair.objects.filter(project_id=project.pk, agreement__isnull=False)
             .select_related("first_operator", "second_operator").order_by("id"))
    per: dict[tuple[str, str], list[AnswerPair]] = defaultdict(list)
    for pair in pairs:
        names = sorted(u.get_username() if u else "(deleted)" for u in (pair.first_operator, pair.second_operator))
        per[(names[0], names[1])].append(pair)

    def row(group: list[AnswerPair]) -> dict:
        agreed = sum(1 for p in group if p.agreement >= AGREES_FROM)
        return {"answered": len(group), "agreed": agreed, "agreement_rate": round(agreed / len(group), 4),
                "mean_agreement": round(mean(p.agreement for p in group), 4),
                "measures": _means([p.measures for p in group])}

    counts = {state: AnswerPair.objects.filter(project_id=project.pk, state=state).count()
              for state in (AnswerPair.State.WAITING, AnswerPair.State.DISAGREED)}
    everything = list(pairs)
    return {"kind": project.kind, "double_answer_share": project.double_answer_share,
            "measure": (spec.control_score.__doc__ or "").strip().split("\n")[0] if spec.control_score
            else "not scored for this kind", "agrees_from": AGREES_FROM,
            "waiting": counts[AnswerPair.State.WAITING], "disagreements_open": counts[AnswerPair.State.DISAGREED],
            "overall": row(everything) if everything else None,
            "pairs": [{"operators": list(names), **row(group)} for names, group in sorted(per.items())]}


def _pair_row(pair: AnswerPair) -> dict:
    name = lambda u: u.get_username() if u else None  # noqa: E731
    return {"id": pair.pk, "item": pair.item_id, "external_id": pair.item.external_id, "state": pair.state,
            "first_operator": name(pair.first_operator), "second_operator": name(pair.second_operator),
            "first": pair.first_revision.annotation,
            "second": pair.second_revision.annotation if pair.second_revision else None,
            "agreement": pair.agreement, "measures": pair.measures, "resolution": pair.resolution,
            "merged_from": pair.merged_from, "resolved_by": name(pair.resolved_by),
            "resolution_label": pair.get_resolution_display() if pair.resolution else "",
            "kept": pair.resolved_revision.annotation if pair.resolved_revision else None,
            "resolved_revision": pair.resolved_revision.number if pair.resolved_revision else None,
            "comment": pair.comment, "created_at": pair.created_at.isoformat(),
            "answered_at": pair.answered_at.isoformat() if pair.answered_at else None,
            "resolved_at": pair.resolved_at.isoformat() if pair.resolved_at else None}


_PAIR_RELATED = ("item", "first_revision", "second_revision", "first_operator", "second_operator", "resolved_by",
                 "resolved_revision")


def disagreement_list(*, project_id: int, state: str | None = AnswerPair.State.DISAGREED,
                      limit: int = 200) -> list[dict]:
    """The project's pairs (disagreements waiting for a reviewer by default), oldest first."""
    qs = AnswerPair.objects.filter(project_id=project_id).select_related(*_PAIR_RELATED)
    if state:
        qs = qs.filter(state=state)
    return [_pair_row(p) for p in qs.order_by("id")[:limit]]


def pair_of_item(*, item_id: int) -> dict | None:
    """The item's pair of answers, with both answers and what the kind's diff says between them."""
    pair = AnswerPair.objects.filter(item_id=item_id).select_related(*_PAIR_RELATED, "item__project").first()
    if pair is None:
        return None
    out = _pair_row(pair)
    spec = get_kind(pair.item.project.kind)
    out["project"] = pair.project_id
    out["difference"] = (spec.review_diff(out["first"], out["second"])
                         if spec.review_diff and out["second"] is not None else None)
    return out


def item_assets_for_page(*, item_id: int) -> list[dict]:
    """The item's images as the side-by-side page draws on them: role, size and working-copy URL."""
    from django.urls import reverse

    from webapp.labeling.models import WorkItemAsset

    links = WorkItemAsset.objects.filter(item_id=item_id).select_related("asset").order_by("position")
    return [{"role": link.role, "width": link.asset.width, "height": link.asset.height,
             "url": reverse("asset-working", args=[link.asset_id])} for link in links]
