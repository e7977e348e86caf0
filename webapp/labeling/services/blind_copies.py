"""Blind copies: a fresh item made of another's images, meta and proposal (none of its revisions), leased to
one operator, that no API tells apart from a queue item. Control items are served this way (scored against
their truth), and so are the second answers of items answered twice (scored against the first answer)."""
from __future__ import annotations

from datetime import datetime

from webapp.labeling.models import ItemState, Lease, Prediction, WorkItem, WorkItemAsset


def item_blind_copy(*, source: WorkItem, user, expires: datetime,
                    ahead_in: int | None = None) -> tuple[WorkItem, Lease]:
    """Copy ``source`` for ``user`` and lease the copy to them. Call inside a transaction. ``ahead_in``: the
    project, when the copy is leased ahead (``Lease.ahead_in``)."""
    proposal = (Prediction.objects.filter(item=source).order_by("stale", "-id")
                .only("source", "model_version_id", "payload", "scores", "uncertainty").first())
    copy = WorkItem.objects.create(
        project_id=source.project_id, external_id=source.external_id, state=ItemState.LEASED,
        uncertainty=proposal.uncertainty if proposal else None,
        queue_rank=proposal.uncertainty if proposal else -1.0, meta=dict(source.meta or {}),
        control_copy=True, lease_holder=user, lease_expires_at=expires)
    WorkItemAsset.objects.bulk_create(
        WorkItemAsset(item=copy, asset_id=link.asset_id, position=link.position, role=link.role)
        for link in source.item_assets.all())
    if proposal is not None:
        Prediction.objects.create(item=copy, source=proposal.source, model_version_id=proposal.model_version_id,
                                  payload=proposal.payload, scores=proposal.scores, uncertainty=proposal.uncertainty)
    previous = ItemState.PREDICTED if proposal else ItemState.NEW
    lease = Lease.objects.create(item=copy, holder=user, previous_state=previous, expires_at=expires,
                                 ahead_in_id=ahead_in)
    lease.item = copy
    return copy, lease
