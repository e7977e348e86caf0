"""Reads for one golden item seen by two versions: the golden truth, each version's proposal and its
per-item figures from the golden-set evaluation, and where the item sits among the items the two disagree
on (the compare page's list, so that next / previous walk it)."""
from __future__ import annotations

from typing import Any

from django.urls import reverse

from webapp.labeling.models import Prediction, WorkItem
from webapp.mlops.models import GoldenProposal, ModelVersion

FIGURE_KEYS = ("value", "score", "label", "tp", "fp", "fn")


def golden_proposal_of(*, version_id: int, item_id: int) -> dict[str, Any] | None:
    """The version's proposal for the item: its ordinary prediction where it made one, else the one made
    for comparison; None when neither exists (yet)."""
    row = (Prediction.objects.filter(item_id=item_id, model_version_id=version_id)
           .values("payload", "scores").first())
    if row is not None:
        return {**row, "source": "prediction"}
    row = GoldenProposal.objects.filter(item_id=item_id, version_id=version_id).values("payload", "scores").first()
    return None if row is None else {**row, "source": "golden"}


def golden_items_missing(*, version_ids: list[int], item_ids: list[int]) -> dict[int, list[int]]:
    """Per version, the items it has no proposal for (neither a prediction nor a comparison one)."""
    out = {}
    for version_id in version_ids:
        have = set(Prediction.objects.filter(model_version_id=version_id, item_id__in=item_ids)
                   .values_list("item_id", flat=True))
        have |= set(GoldenProposal.objects.filter(version_id=version_id, item_id__in=item_ids)
                    .values_list("item_id", flat=True))
        missing = [i for i in item_ids if i not in have]
        if missing:
            out[version_id] = missing
    return out


def _figures(metrics: dict | None, item_id: int) -> dict[str, Any] | None:
    for record in (metrics or {}).get("items") or []:
        if record.get("item") == item_id:
            return {k: record[k] for k in (*FIGURE_KEYS, "slices") if k in record}
    return None


def golden_item_sides(*, candidate: ModelVersion, against: ModelVersion | None, item_id: int,
                      disagreements: list[dict]) -> dict[str, Any] | None:
    """The side-by-side page's content, None when the item is not of the candidate's kind. ``against``'s
    figures are its own stored ones, or those the candidate's run measured of it (``metrics.champion``)."""
    item = (WorkItem.objects.select_related("project", "head_revision").prefetch_related("item_assets__asset")
            .filter(pk=item_id, project__kind=candidate.kind).first())
    if item is None:
        return None
    champion_metrics = against.metrics if against is not None else None
    if against is not None and not _figures(champion_metrics, item_id):
        measured = (candidate.metrics or {}).get("champion") or {}
        champion_metrics = measured if measured.get("version") == against.pk else champion_metrics
    sides = []
    for role, version, metrics in (("champion", against, champion_metrics),
                                   ("candidate", candidate, candidate.metrics)):
        if version is None:
            continue
        sides.append({"role": role, "version": version.pk, "number": version.number,
                      "proposal": golden_proposal_of(version_id=version.pk, item_id=item_id),
                      "figures": _figures(metrics, item_id)})
    order = [d["item"] for d in disagreements]
    at = order.index(item_id) if item_id in order else None
    return {
        "item": item, "kind": candidate.kind,
        "truth": item.head_revision.annotation if item.head_revision_id else None,
        "truth_revision": item.head_revision.number if item.head_revision_id else None,
        "assets": [{"role": link.role, "width": link.asset.width, "height": link.asset.height,
                    "url": reverse("asset-working", args=[link.asset_id])}
                   for link in item.item_assets.all()],
        "sides": sides,
        "position": None if at is None else at + 1, "count": len(order),
        "previous": order[at - 1] if at is not None and at > 0 else None,
        "next": order[at + 1] if at is not None and at + 1 < len(order) else None,
        "disagreement": disagreements[at] if at is not None else None,
    }
