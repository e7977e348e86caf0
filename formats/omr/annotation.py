"""OMR alignment annotations for an (original rendering, photo) pair.

    {"status": "accepted" | "rejected" | "fixed",
     "homography": [[h00, h01, h02], [h10, h11, h12], [h20, h21, h22]] | null,   # original -> photo pixels
     "point_pairs": [[[xo, yo], [xp, yp]], ...],
     "reasons": ["wrong page", ...]}                                            # from REASONS
"""
from __future__ import annotations

from formats.common.checker import LIMITS, AssetDims, Checker
from formats.common.jsonschema import DIALECT, POINT

STATUSES = ("accepted", "rejected", "fixed")
REASONS = ("too few matches", "wrong page", "page curl", "partial page", "degenerate homography", "blur", "other")


def determinant3(m: list[list[float]]) -> float:
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def validate(annotation, assets: list[AssetDims], *, complete: bool = True) -> dict:
    """The answer checked and normalised. ``complete=False`` (a draft, mid-edit) skips what only a finished
    answer needs: the accepted alignment's homography, a fix's four point pairs."""
    c = Checker()
    root = c.root(annotation, assets, 2, "an omr item is a pair (original, photo)")
    original, photo = assets
    status = c.choice(root.get("status"), STATUSES, "$.status")
    homography = None
    raw = root.get("homography")
    if raw is not None:
        rows = c.lst(raw, "$.homography")
        if rows is not None and (len(rows) != 3 or any(not isinstance(r, list) or len(r) != 3 for r in rows)):
            c.fail("$.homography", "must be a 3×3 matrix")
        elif rows is not None:
            values = [[c.number(v, f"$.homography[{i}][{j}]") for j, v in enumerate(r)] for i, r in enumerate(rows)]
            if all(v is not None for r in values for v in r):
                if abs(determinant3(values)) < 1e-12:
                    c.fail("$.homography", "is singular (degenerate): it cannot map the page")
                else:
                    homography = values
    pairs = []
    for i, pair in enumerate(c.lst(root.get("point_pairs", []), "$.point_pairs", LIMITS["shapes_per_image"]) or []):
        path = f"$.point_pairs[{i}]"
        if not isinstance(pair, list) or len(pair) != 2:
            c.fail(path, "must be [[x_original, y_original], [x_photo, y_photo]]")
            continue
        a = c.point(pair[0], original, f"{path}[0]")
        b = c.point(pair[1], photo, f"{path}[1]")
        if a and b:
            pairs.append([list(a), list(b)])
    reasons = []
    for i, r in enumerate(c.lst(root.get("reasons", []), "$.reasons", len(REASONS)) or []):
        reason = c.choice(r, REASONS, f"$.reasons[{i}]")
        if reason is not None and reason not in reasons:
            reasons.append(reason)
    if complete and status == "accepted" and homography is None and raw is None:
        c.fail("$.homography", "an accepted alignment needs its homography")
    if complete and status == "fixed" and len(pairs) < 4:
        c.fail("$.point_pairs", f"a fix needs at least 4 point pairs ({len(pairs)} given)")
    c.raise_if_any()
    return {"status": status, "homography": homography, "point_pairs": pairs, "reasons": reasons}


def empty(assets: list[AssetDims]) -> dict:
    return {"status": "rejected", "homography": None, "point_pairs": [], "reasons": ["other"]}


def slices(annotation: dict, meta: dict) -> list[str]:
    out = [f"status:{annotation.get('status')}"]
    if meta.get("piece"):
        out.append(f"piece:{meta['piece']}")
    return out


def count_edits(before: dict | None, after: dict) -> int:
    if before is None:
        return 1
    return int(before.get("status") != after.get("status")) + len(after.get("point_pairs", []))


JSON_SCHEMA = {
    "$schema": DIALECT,
    "title": "OMR alignment annotation",
    "description": "The verdict on an (original rendering, photo) alignment: the homography maps original "
                   "pixels to photo pixels; point pairs fix a bad alignment.",
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"enum": list(STATUSES)},
        "homography": {"oneOf": [{"type": "null"}, {
            "type": "array", "minItems": 3, "maxItems": 3,
            "items": {"type": "array", "minItems": 3, "maxItems": 3, "items": {"type": "number"}}}]},
        "point_pairs": {"type": "array", "maxItems": LIMITS["shapes_per_image"],
                        "items": {"type": "array", "items": POINT, "minItems": 2, "maxItems": 2}},
        "reasons": {"type": "array", "maxItems": len(REASONS), "items": {"enum": list(REASONS)}},
    },
}
