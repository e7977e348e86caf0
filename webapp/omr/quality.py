"""Label quality for OMR alignments: a control answer against the truth by status agreement and corner
error, the largest distance (photo pixels) between where the two homographies put the original's four
corners. Accuracy is 1 when the statuses agree and, where both give a homography, the corner error is
within ``CORNER_TOLERANCE`` of the original's diagonal; else 0."""
from __future__ import annotations

import math
from typing import Any

from formats.common.geometry import apply_homography
from webapp.labeling.kinds import AssetDims

CORNER_TOLERANCE = 0.01


def corner_error(truth_h, answer_h, original: AssetDims) -> float:
    corners = [(0, 0), (original.width, 0), (original.width, original.height), (0, original.height)]
    return max(math.dist(apply_homography(truth_h, x, y), apply_homography(answer_h, x, y)) for x, y in corners)


def control_score(truth: dict, answer: dict, dims: list[AssetDims]) -> dict[str, Any]:
    """1 when the status agrees and the corners land within 1 % of the page diagonal of the truth's, else 0."""
    status = truth.get("status") == answer.get("status")
    error = None
    if truth.get("homography") and answer.get("homography") and dims:
        error = corner_error(truth["homography"], answer["homography"], dims[0])
    close = error is None or error <= CORNER_TOLERANCE * math.hypot(dims[0].width, dims[0].height)
    return {"accuracy": float(status and close), "status_agrees": status,
            "corner_error_px": None if error is None else round(error, 2),
            "truth_status": truth.get("status"), "answer_status": answer.get("status")}
