"""Writes of the omr kind: an operator's point pairs sent for a server-side recompute, and its result.

The recompute itself (guided matching on the images, metrics, verdict) runs on the infer queue: the web
process never loads images or OpenCV. The request answers at once with the pairs' own homography (the
pure normalised DLT of ``formats.omr.homography``) so the page can draw it; the worker's refined
homography, metrics and verdict arrive as an ``omr.recomputed`` event on the project's socket and stay
readable for an hour (``selectors.alignment_recompute_get``), also by the homography it produced, so that a
submitted fix stores the metrics the server measured for it (``webapp.omr.fix_metrics``).
"""
from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache

from formats.common.checker import AssetDims
from formats.omr.homography import check_point_pairs, homography_from_pairs, pair_residuals
from webapp.core import tasknames
from webapp.core.errors import Conflict, NotFound, ServiceError
from webapp.core.tasks import enqueue
from webapp.labeling.models import WorkItem
from webapp.omr.selectors import RESULT_SECONDS, homography_key, recompute_key
from webapp.realtime.events import project_group, send_now

EVENT = "omr.recomputed"


def _pair_assets(item: WorkItem) -> tuple[Any, Any]:
    links = {link.role: link.asset for link in item.item_assets.select_related("asset")}
    if item.project.kind != "omr" or "original" not in links or "photo" not in links:
        raise ServiceError(f"item {item.pk} is not an omr pair (original, photo): nothing to recompute")
    return links["original"], links["photo"]


def alignment_recompute_request(*, item_id: int, point_pairs: Any) -> dict[str, Any]:
    """Validate the pairs against the item's images (400 naming the field), enqueue the recompute, and answer
    with the request id and the pairs' own homography (original -> photo, original pixels)."""
    item = WorkItem.objects.select_related("project").filter(pk=item_id).first()
    if item is None:
        raise NotFound(f"no work item {item_id}")
    original, photo = _pair_assets(item)
    pairs = check_point_pairs(point_pairs, AssetDims(original.width, original.height, "original"),
                              AssetDims(photo.width, photo.height, "photo"))
    if not original.working_copy or not photo.working_copy:
        raise Conflict(f"item {item_id}: the images' working copies are not ready yet; try again in a moment")
    homography = homography_from_pairs(pairs)
    request_id = str(uuid.uuid4())
    cache.set(recompute_key(request_id), {"state": "pending", "item": item.pk, "request": request_id},
              timeout=RESULT_SECONDS)
    enqueue(tasknames.OMR_RECOMPUTE, item.pk, request_id, pairs, priority=settings.LOUPE_PRIORITY_INTERACTIVE)
    residuals = pair_residuals(homography, pairs)
    return {"request": request_id, "item": item.pk, "state": "pending", "point_pairs": pairs,
            "homography": homography, "residual_max": round(max(residuals), 3)}


def alignment_recompute_store(*, item_id: int, request_id: str, result: dict[str, Any]) -> dict[str, Any]:
    """The worker's answer: kept for the page to read, and sent on the project's socket."""
    item = WorkItem.objects.filter(pk=item_id).only("id", "project_id").first()
    if item is None:
        raise NotFound(f"no work item {item_id}")
    body = {**result, "item": item.pk, "request": request_id}
    cache.set(recompute_key(request_id), body, timeout=RESULT_SECONDS)
    if body.get("state") == "done" and body.get("homography"):
        # found again by the homography an operator submits: its metrics are stored with the revision
        cache.set(homography_key(item_id=item.pk, homography=body["homography"]), body, timeout=RESULT_SECONDS)
    send_now(project_group(item.project_id), EVENT, body)
    return body
