"""Writes for golden items seen by two versions: the proposals a version makes of golden items to be
compared (never shown to operators), and the request that a worker make the missing ones."""
from __future__ import annotations

from typing import Any

from django.conf import settings

from webapp.core import tasknames
from webapp.core.errors import NotFound
from webapp.core.tasks import enqueue
from webapp.labeling.kinds import AnnotationError, get_kind
from webapp.labeling.models import WorkItem
from webapp.labeling.selectors import item_asset_dims
from webapp.mlops.models import GoldenProposal, ModelVersion
from webapp.mlops.selectors_golden import golden_items_missing
from webapp.realtime.events import MLOPS_GROUP, publish

EVENT = "golden.proposals"
MAX_ITEMS = 200   # the compare page lists at most this many disagreeing items


def golden_proposals_store(*, version_id: int, rows: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Keep a version's proposals ({"item_id", "payload", "scores"}), once per (version, item): checked by
    the kind's validator like any model output; a row it refuses is reported, not stored. Sends
    ``golden.proposals`` on the mlops feed with the items stored."""
    version = ModelVersion.objects.filter(pk=version_id).only("id", "kind").first()
    if version is None:
        raise NotFound(f"no model version {version_id}")
    spec = get_kind(version.kind)
    kinds = dict(WorkItem.objects.filter(pk__in=[r["item_id"] for r in rows]).values_list("pk", "project__kind"))
    stored, failed = [], []
    for row in rows:
        if kinds.get(row["item_id"]) != version.kind:
            failed.append(row["item_id"])
            continue
        try:
            payload = spec.validate(row["payload"], item_asset_dims(item_id=row["item_id"]))
        except AnnotationError:
            failed.append(row["item_id"])
            continue
        GoldenProposal.objects.get_or_create(version_id=version_id, item_id=row["item_id"],
                                             defaults={"payload": payload, "scores": row.get("scores") or {}})
        stored.append(row["item_id"])
    if stored:
        publish(MLOPS_GROUP, EVENT, {"version": version_id, "items": stored})
    return {"stored": stored, "failed": failed}


def golden_proposals_request(*, version_ids: list[int], item_ids: list[int]) -> dict[int, list[int]]:
    """Enqueue, per version, the proposals still missing for these golden items (at most ``MAX_ITEMS``);
    returns what was asked for. Idempotent: a worker skips what was stored meanwhile."""
    missing = golden_items_missing(version_ids=version_ids, item_ids=list(item_ids)[:MAX_ITEMS])
    for version_id, items in missing.items():
        enqueue(tasknames.GOLDEN_PROPOSALS, version_id, items, priority=settings.LOUPE_PRIORITY_INTERACTIVE)
    return missing
