"""The figures of an OMR answer stored with its revision: what the reviewer judges a fix by.

Computed by the server at submit, never taken from the client:
- from the answer and the model's proposal alone (here, in plain Python): the operator's point pairs and
  how far the answer's homography misses them, how far it moves the page's corners and the original's
  symbols on the photo against the proposal's homography, and how many symbols move visibly;
- the aligner's image metrics (inliers, ink agreement, system shift, ...) and its verdict, where the server
  measured them for exactly this homography: the worker's recompute of the operator's pairs (kept for an
  hour by ``webapp.omr.selectors``) or, for an answer that keeps the proposal's homography, the proposal.
Where neither holds (e.g. a fix submitted before its recompute answered) ``alignment`` is null: not recorded.
"""
from __future__ import annotations

import math
from statistics import median
from typing import Any

from formats.common.geometry import apply_homography
from formats.omr.homography import pair_residuals
from webapp.labeling.kinds import AssetDims
from webapp.omr.quality import corner_error
from webapp.omr.selectors import alignment_recompute_for

SYMBOL_MOVED_PX = 2.0    # a symbol whose box centre lands this far (photo pixels) from the proposal's has moved
VERSION = 1


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def _original(dims: list[AssetDims]) -> AssetDims | None:
    return next((d for d in dims if d.role == "original"), dims[0] if dims else None)


def _symbol_shifts(symbols: Any, before: list, after: list) -> list[float]:
    shifts = []
    for s in symbols if isinstance(symbols, list) else []:
        box = s.get("bbox") if isinstance(s, dict) else None
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
            continue
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        shifts.append(math.dist(apply_homography(before, cx, cy), apply_homography(after, cx, cy)))
    return shifts


def _alignment(item_id: int, homography: list | None, proposal_h: list | None,
               scores: dict) -> tuple[str | None, dict | None, str | None, list[str]]:
    """(source, metrics, verdict, reasons) the server measured for this homography, or Nones."""
    if homography is None:
        return None, None, None, []
    recomputed = alignment_recompute_for(item_id=item_id, homography=homography)
    if recomputed is not None:
        return ("recompute", recomputed.get("metrics") or {}, recomputed.get("verdict"),
                list(recomputed.get("reasons") or []))
    if proposal_h is not None and homography == proposal_h and isinstance(scores.get("metrics"), dict):
        return "proposal", scores["metrics"], scores.get("verdict"), list(scores.get("reasons") or [])
    return None, None, None, []


def revision_metrics(*, item_id: int, answer: dict, proposal: dict | None, meta: dict,
                     dims: list[AssetDims]) -> dict[str, Any]:
    """The stored figures (see the module's docstring); every number computed here or by the worker."""
    h = answer.get("homography")
    payload = (proposal or {}).get("payload") or {}
    scores = (proposal or {}).get("scores") or {}
    proposal_h = payload.get("homography")
    pairs = answer.get("point_pairs") or []
    residuals = pair_residuals(h, pairs) if h and pairs else []
    original = _original(dims)
    moved = shifts = None
    if h and proposal_h and original is not None:
        moved = corner_error(proposal_h, h, original)
        shifts = _symbol_shifts(meta.get("symbols"), proposal_h, h)
    source, alignment, verdict, reasons = _alignment(item_id, h, proposal_h, scores)
    return {
        "version": VERSION,
        "status": answer.get("status"),
        "proposal": None if proposal is None else {"prediction": proposal.get("id"), "verdict": scores.get("verdict"),
                                                   "status": payload.get("status")},
        "point_pairs": len(pairs),
        "operator_residual_max": _rounded(max(residuals)) if residuals else None,
        "operator_residual_median": _rounded(median(residuals)) if residuals else None,
        "corner_shift_max": _rounded(moved, 2),
        "symbols": None if shifts is None else len(shifts),
        "symbols_moved": None if shifts is None else sum(1 for d in shifts if d > SYMBOL_MOVED_PX),
        "symbol_shift_max": _rounded(max(shifts), 2) if shifts else None,
        "alignment_source": source,
        "alignment": alignment,
        "verdict": verdict,
        "reasons": reasons,
    }


_NUMBER_OR_NULL = {"oneOf": [{"type": "number"}, {"type": "null"}]}
_COUNT_OR_NULL = {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]}
JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "status", "proposal", "point_pairs", "operator_residual_max", "operator_residual_median",
                 "corner_shift_max", "symbols", "symbols_moved", "symbol_shift_max", "alignment_source",
                 "alignment", "verdict", "reasons"],
    "properties": {
        "version": {"type": "integer", "description": "How these figures were computed (1)."},
        "status": {"type": "string", "description": "The answer's status: accepted, rejected or fixed."},
        "proposal": {"oneOf": [{"type": "object", "properties": {
            "prediction": _COUNT_OR_NULL, "verdict": {"oneOf": [{"type": "string"}, {"type": "null"}]},
            "status": {"oneOf": [{"type": "string"}, {"type": "null"}]}}}, {"type": "null"}],
            "description": "The model's proposal the answer is measured against (null: none)."},
        "point_pairs": {"type": "integer", "minimum": 0},
        "operator_residual_max": _NUMBER_OR_NULL | {"description": "Photo px between the answer's homography and "
                                                                   "the operator's worst pair."},
        "operator_residual_median": _NUMBER_OR_NULL,
        "corner_shift_max": _NUMBER_OR_NULL | {"description": "Photo px the answer moves the page's corners "
                                                              "against the proposal (null: either has none)."},
        "symbols": _COUNT_OR_NULL,
        "symbols_moved": _COUNT_OR_NULL | {"description": f"Symbols moved over {SYMBOL_MOVED_PX} photo px."},
        "symbol_shift_max": _NUMBER_OR_NULL,
        "alignment_source": {"oneOf": [{"type": "string", "enum": ["recompute", "proposal"]}, {"type": "null"}],
                             "description": "Where the image metrics were measured; null: not recorded."},
        "alignment": {"oneOf": [{"type": "object", "additionalProperties": True}, {"type": "null"}],
                      "description": "The aligner's metrics for this homography (inliers, inlier_ratio, "
                                     "reproj_median, coverage, ncc_median, ncc_min, ...)."},
        "verdict": {"oneOf": [{"type": "string"}, {"type": "null"}]},
        "reasons": {"type": "array", "items": {"type": "string"}},
    },
}
