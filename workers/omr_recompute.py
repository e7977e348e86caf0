"""An operator's point pairs on the infer queue: the aligner's operator-points path on the item's working
copies (guided matching near the operator's homography, a robust fit, the aligner's metrics and verdict),
answered through ``webapp.omr.services.alignment_recompute_store`` (cache + ``omr.recomputed`` event).

Idempotent: the result depends on the item's images and the pairs only; a redelivered message stores the
same answer under the same request id.
"""
from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np

from formats.omr.homography import pair_residuals
from webapp.core import tasknames
from webapp.omr.services import alignment_recompute_store
from workers.adapters.omr import METRICS_KEPT, _pair_index, _round, platform_reasons, to_original_pixels
from workers.base import loupe_task
from workers.itemdata import load_items

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _aligner():
    from ml.omr.align import Aligner

    return Aligner()   # keeps the originals' templates between requests on the same item


def recompute(item_id: int, point_pairs: list) -> dict:
    """The result body: {"state": "done", homography (original pixels), verdict, reasons, metrics, ...}
    or {"state": "failed", "detail"}."""
    from ml.omr.align import homography_from_points

    items = load_items([item_id], mode="L")
    if not items:
        return {"state": "failed", "detail": "the item's working copies are not ready"}
    item = items[0]
    o, p = _pair_index(item)
    scales = item.scales()
    (osx, osy), (psx, psy) = scales[o], scales[p]
    work_pairs = [[[xo * osx, yo * osy], [xp * psx, yp * psy]] for (xo, yo), (xp, yp) in point_pairs]
    try:
        a = homography_from_points(work_pairs, item.images[o], item.images[p], refine=True, aligner=_aligner())
    except ValueError as e:
        return {"state": "failed", "detail": str(e)}
    h = to_original_pixels(a.homography, scales[o], scales[p]).tolist()
    residuals = pair_residuals(h, point_pairs)
    metrics = {k: _round(a.metrics.get(k)) for k in METRICS_KEPT}
    metrics.update(refined=bool(a.metrics.get("refined")), operator_residual_max=round(max(residuals), 3),
                   operator_residual_median=round(float(np.median(residuals)), 3))
    matches = []
    if a.inliers is not None and len(a.inliers):
        pick = np.linspace(0, len(a.inliers) - 1, min(120, len(a.inliers))).astype(int)
        rows = a.inliers[pick].astype(float) / [osx, osy, psx, psy]
        matches = [[[round(r[0], 1), round(r[1], 1)], [round(r[2], 1), round(r[3], 1)]] for r in rows.tolist()]
    return {"state": "done", "homography": h, "verdict": a.verdict, "reasons": list(a.reasons),
            "annotation_reasons": platform_reasons(a.verdict, list(a.reasons)), "metrics": metrics,
            "matches": matches, "point_pairs": point_pairs}


@loupe_task(tasknames.OMR_RECOMPUTE, time_limit=120)
def omr_recompute(item_id: int, request_id: str, point_pairs: list) -> str:
    try:
        result = recompute(item_id, point_pairs)
    except Exception as e:   # the page waits for an answer: a failure is one too
        log.exception("recompute of item %s failed", item_id)
        result = {"state": "failed", "detail": f"the recompute failed on the worker: {type(e).__name__}"}
    alignment_recompute_store(item_id=item_id, request_id=request_id, result=result)
    return result["state"]
