"""Article annotations on one newspaper page: its type, the cut lines and the article polygons.

    {"page_type": "article" | "ads" | "tv" | "shares" | "sports" | "other",
     "cuts": [{"x0": .., "y0": .., "x1": .., "y1": ..}],
     "articles": [{"id": "a1", "polygon": [[x, y], ...]}]}      # in reading order

An article id becomes an XML id in PAGE XML, so it must be a valid ``xs:ID`` (NCName): a letter or ``_``
first, then letters, digits, ``.``, ``-``, ``_``.
"""
from __future__ import annotations

import math

from formats.common.checker import LIMITS, NCNAME_PATTERN, AssetDims, Checker
from formats.common.jsonschema import DIALECT, POINT

PAGE_TYPES = ("article", "ads", "tv", "shares", "sports", "other")


def validate(annotation, assets: list[AssetDims], *, complete: bool = True) -> dict:
    """The answer checked and normalised. ``complete=False`` (a draft, mid-edit) lets a non-article page
    still hold the articles the operator is about to remove."""
    c = Checker()
    root = c.root(annotation, assets, 1, "an articles item is one page")
    page = assets[0]
    page_type = c.choice(root.get("page_type"), PAGE_TYPES, "$.page_type")
    cuts = []
    for i, cut in enumerate(c.lst(root.get("cuts", []), "$.cuts", LIMITS["shapes_per_image"]) or []):
        path = f"$.cuts[{i}]"
        cut = c.obj(cut, path)
        if cut is None:
            continue
        a = c.point([cut.get("x0"), cut.get("y0")], page, f"{path}(x0,y0)")
        b = c.point([cut.get("x1"), cut.get("y1")], page, f"{path}(x1,y1)")
        if a and b:
            if math.dist(a, b) < 1:
                c.fail(path, "a cut needs two distinct end points")
            else:
                cuts.append({"x0": a[0], "y0": a[1], "x1": b[0], "y1": b[1]})
    articles, seen = [], set()
    for i, art in enumerate(c.lst(root.get("articles", []), "$.articles", LIMITS["shapes_per_image"]) or []):
        path = f"$.articles[{i}]"
        art = c.obj(art, path)
        if art is None:
            continue
        art_id = c.identifier(art.get("id", f"a{i + 1}"), f"{path}.id")
        if art_id is not None and art_id in seen:
            c.fail(f"{path}.id", f"duplicate article id {art_id!r}")
        seen.add(art_id)
        polygon = c.polygon(art.get("polygon"), page, f"{path}.polygon")
        if polygon and art_id:
            articles.append({"id": art_id, "polygon": polygon})
    if complete and page_type and page_type != "article" and articles:
        c.fail("$.articles", f"a page of type {page_type!r} is not cut into articles; remove them or set page_type")
    c.raise_if_any()
    return {"page_type": page_type, "cuts": cuts, "articles": articles}


def empty(assets: list[AssetDims]) -> dict:
    return {"page_type": "article", "cuts": [], "articles": []}


def slices(annotation: dict, meta: dict) -> list[str]:
    out = [f"page_type:{annotation.get('page_type', 'article')}"]
    if meta.get("publisher"):
        out.append(f"publisher:{meta['publisher']}")
    return out


def _shift(a: dict, b: dict) -> float:
    return max(abs(a["x0"] - b["x0"]), abs(a["y0"] - b["y0"]), abs(a["x1"] - b["x1"]), abs(a["y1"] - b["y1"]))


def match_cuts(before: list[dict], after: list[dict], tolerance: float = 0.01) -> dict[str, list]:
    """The cuts of an answer against those it started from: {"same": [(old, new)], "moved": [(old, new)],
    "removed": [old], "added": [new]}. A cut is moved when an end point moved by more than ``tolerance`` of
    the page's extent, and counts as removed and added when it moved by more than ten times that."""
    def key(c):
        return round(c["x0"]), round(c["y0"]), round(c["x1"]), round(c["y1"])

    old = sorted(before, key=key)
    new = sorted(after, key=key)
    extent = max([1.0] + [max(c["x0"], c["x1"], c["y0"], c["y1"]) for c in old + new])
    out: dict[str, list] = {"same": [], "moved": [], "removed": [], "added": []}
    unmatched_new = list(new)
    for cut in old:
        best = min(unmatched_new, default=None,
                   key=lambda n: abs(n["x0"] - cut["x0"]) + abs(n["y0"] - cut["y0"])
                   + abs(n["x1"] - cut["x1"]) + abs(n["y1"] - cut["y1"]))
        if best is None or _shift(best, cut) > 10 * tolerance * extent:
            out["removed"].append(cut)  # (a far one: the new cut counts as added below)
            continue
        unmatched_new.remove(best)
        out["moved" if _shift(best, cut) > tolerance * extent else "same"].append((cut, best))
    out["added"] = unmatched_new
    return out


def count_edits(before: dict | None, after: dict, tolerance: float = 0.01) -> int:
    """Cuts to add + cuts to delete + cuts to move (an end point moved by more than the tolerance), and
    a changed page type. The tolerance is a share of the page's extent, as in the cut metric."""
    if before is None:
        return len(after.get("cuts", [])) + 1
    edits = int(before.get("page_type") != after.get("page_type"))
    m = match_cuts(before.get("cuts", []), after.get("cuts", []), tolerance)
    return edits + len(m["removed"]) + len(m["moved"]) + len(m["added"])


def review_diff(before: dict | None, after: dict) -> dict:
    """The reviewer's view: cuts added, removed and moved (before and after) against the proposal, each as
    ``{"shot": 0, "label": "cut", x0, y0, x1, y1}``, the page type when it changed, and the edit count."""
    def entry(c):
        return {"shot": 0, "label": "cut", **{k: c[k] for k in ("x0", "y0", "x1", "y1")}}

    m = match_cuts((before or {}).get("cuts", []), after.get("cuts", []))
    out = {"added": [entry(c) for c in m["added"]], "removed": [entry(c) for c in m["removed"]],
           "changed": [{"before": entry(a), "after": entry(b)} for a, b in m["moved"]],
           "edits": count_edits(before, after)}
    if before is not None and before.get("page_type") != after.get("page_type"):
        out["page_type"] = {"before": before.get("page_type"), "after": after.get("page_type")}
    return out


JSON_SCHEMA = {
    "$schema": DIALECT,
    "title": "Articles annotation",
    "description": "One newspaper page: its type, the cut lines and the article polygons (in reading order), "
                   "in original image pixels. Bounds against the image are checked by the server.",
    "type": "object",
    "required": ["page_type"],
    "properties": {
        "page_type": {"enum": list(PAGE_TYPES)},
        "cuts": {"type": "array", "maxItems": LIMITS["shapes_per_image"], "items": {
            "type": "object", "required": ["x0", "y0", "x1", "y1"],
            "properties": {k: {"type": "number", "minimum": 0} for k in ("x0", "y0", "x1", "y1")}}},
        "articles": {"type": "array", "maxItems": LIMITS["shapes_per_image"], "items": {
            "type": "object", "required": ["polygon"],
            "properties": {
                "id": {"type": "string", "maxLength": LIMITS["id_length"],
                       "pattern": NCNAME_PATTERN,
                       "description": "an XML id (xs:ID); defaults to a1, a2, ... by position"},
                "polygon": {"type": "array", "items": POINT, "minItems": 3,
                            "maxItems": LIMITS["points_per_polygon"]}}}},
    },
}
