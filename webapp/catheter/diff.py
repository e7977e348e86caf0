"""Review diff of catheter annotations: which defects the operator added, removed or changed against what
they started from (the model's proposal, or the previous revision), shot by shot.

Defects are paired per shot: first identical ones (same type, box and shape to the pixel: unchanged, not
listed), then the remaining ones by box overlap (IoU >= ``MATCH_IOU``, best first: "changed"); what is left
was removed (before) or added (after). Each shape carries ``{"shot": i, ...defect}``.
"""
from __future__ import annotations

from typing import Any

from formats.catheter.annotation import defect_key

MATCH_IOU = 0.3


def _iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _shot_diff(shot: int, before: list[dict], after: list[dict], out: dict[str, list]) -> None:
    left, right = list(before), list(after)
    for d in list(left):                       # identical defects: unchanged
        key = defect_key(d)
        twin = next((a for a in right if defect_key(a) == key), None)
        if twin is not None:
            left.remove(d)
            right.remove(twin)
    pairs = sorted(((_iou(b["box"], a["box"]), i, j) for i, b in enumerate(left) for j, a in enumerate(right)),
                   reverse=True)
    used_l, used_r = set(), set()
    for iou, i, j in pairs:
        if iou < MATCH_IOU or i in used_l or j in used_r:
            continue
        used_l.add(i)
        used_r.add(j)
        out["changed"].append({"before": {"shot": shot, **left[i]}, "after": {"shot": shot, **right[j]}})
    out["removed"] += [{"shot": shot, **d} for i, d in enumerate(left) if i not in used_l]
    out["added"] += [{"shot": shot, **d} for j, d in enumerate(right) if j not in used_r]


def review_diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"added": [], "removed": [], "changed": []}
    before_shots = (before or {}).get("shots", [])
    for i, shot in enumerate(after.get("shots", [])):
        was = before_shots[i].get("defects", []) if i < len(before_shots) else []
        _shot_diff(i, was, shot.get("defects", []), out)
    if before is not None and before.get("verdict") != after.get("verdict"):
        out["verdict"] = {"before": before.get("verdict"), "after": after.get("verdict")}
    return out
