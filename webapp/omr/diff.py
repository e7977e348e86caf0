"""Review diff of omr annotations: what the operator changed against what they started from (usually the
aligner's proposal). Point pairs are "added" or "removed" (each ``{"pair": i, "original", "photo"}``); a
different status, reasons or homography is one "changed" entry ``{"before": {...}, "after": {...}}``. How far a
new homography moves the page against the proposal is shown by the editor, which knows the page size."""
from __future__ import annotations

from typing import Any


def _pairs(annotation: dict | None) -> list[list]:
    return [p for p in (annotation or {}).get("point_pairs", []) or []]


def _verdict(annotation: dict | None) -> dict[str, Any]:
    a = annotation or {}
    return {"status": a.get("status"), "reasons": list(a.get("reasons") or []), "homography": a.get("homography")}


def review_diff(before: dict | None, after: dict) -> dict[str, Any]:
    old, new = _pairs(before), _pairs(after)
    added = [{"pair": i, "original": p[0], "photo": p[1]} for i, p in enumerate(new) if p not in old]
    removed = [{"pair": i, "original": p[0], "photo": p[1]} for i, p in enumerate(old) if p not in new]
    changed = []
    if _verdict(before) != _verdict(after):
        changed.append({"before": _verdict(before), "after": _verdict(after)})
    return {"added": added, "removed": removed, "changed": changed,
            "status": {"before": (before or {}).get("status"), "after": after.get("status")}}
