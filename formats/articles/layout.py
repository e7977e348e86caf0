"""Articles from cuts and the page's layout geometry, snapping of cuts, and the threshold preview: the one
implementation, used by the web app's recompute endpoint (the editor) and by ``ml.articles`` (the cut
candidates a prediction stores).

Page geometry is what the refinement measured on the page image (``ml.articles.refine``), in page pixels:

    {"frame": [x0, y0, x1, y1],           # the text area: articles live inside it
     "gutters": [x, ...],                  # mid-lines of the column grid's gutters
     "rules": [[x0, y0, x1, y1], ...]}     # printed rules (horizontal or vertical segments)

Without geometry (no prediction yet) the frame is the whole page and nothing but other cuts attracts a cut.

The answers are in whole page pixels (as PAGE XML stores them). Cuts are straight segments; newspapers cut
along the rectilinear layout grid, so the partition treats a cut as horizontal or vertical by its longer
extent. The frame is divided on the grid of all cut positions and cut ends: two neighbouring cells belong
to one article unless a cut runs between them, so a cut that ends in the open separates nothing beyond its
end. Tolerances are shares of the page width, so they fit every resolution. The partition itself lives in
``formats.articles.partition``; this module snaps, previews thresholds and puts an edit together.
"""
from __future__ import annotations

import math
from typing import Any

from formats.articles.partition import (  # noqa: F401  (re-exported: the module's public names)
    JUNCTION, MAX_CELLS, MIN_ARTICLE, Cut, TooComplex, _axis, _cut, articles_from_cuts, is_vertical, merge_articles,
    point_in_polygon, px, rects_outline,
)

SNAP_ANGLE_DEG = 5.0    # a drawn cut within this many degrees of horizontal / vertical is made exactly so
SNAP_LINE = 0.012       # a cut moves onto a gutter or rule this close (share of the page width)
SNAP_END = 0.02         # a cut's end moves onto a perpendicular cut, gutter or frame side this close


# ---- geometry -------------------------------------------------------------------------------------------

def page_geometry(raw: Any, width: int, height: int) -> dict[str, Any]:
    """The geometry as the functions here use it, from what a prediction stored (anything unusable is
    dropped: the geometry helps, it is never required)."""
    raw = raw if isinstance(raw, dict) else {}

    def num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    frame = raw.get("frame")
    if isinstance(frame, list) and len(frame) == 4 and all(num(v) for v in frame):
        x0, y0 = max(0.0, min(frame[0], frame[2])), max(0.0, min(frame[1], frame[3]))
        x1, y1 = min(float(width), max(frame[0], frame[2])), min(float(height), max(frame[1], frame[3]))
        frame = [x0, y0, x1, y1] if x1 - x0 >= 1 and y1 - y0 >= 1 else None
    else:
        frame = None
    gutters = [float(g) for g in raw.get("gutters", []) if num(g) and 0 <= g <= width] \
        if isinstance(raw.get("gutters"), list) else []
    rules = [[float(v) for v in r] for r in raw.get("rules", [])
             if isinstance(r, list) and len(r) == 4 and all(num(v) for v in r)] \
        if isinstance(raw.get("rules"), list) else []
    return {"frame": [px(v) for v in frame] if frame else [0, 0, width, height],
            "gutters": sorted(px(g) for g in gutters), "rules": [[px(v) for v in r] for r in rules]}

def _nearest(value: float, candidates: list[float], limit: float) -> float | None:
    best = min(candidates, key=lambda c: abs(c - value), default=None)
    return best if best is not None and abs(best - value) <= limit else None


# ---- snapping -------------------------------------------------------------------------------------------

def straighten(cut: Cut, max_deg: float = SNAP_ANGLE_DEG) -> tuple[Cut, bool]:
    """The cut made exactly horizontal or vertical (about its middle) when it is within ``max_deg``."""
    dx, dy = cut["x1"] - cut["x0"], cut["y1"] - cut["y0"]
    angle = math.degrees(math.atan2(abs(dy), abs(dx)))
    if angle <= max_deg:
        y = px((cut["y0"] + cut["y1"]) / 2)
        return {**cut, "y0": y, "y1": y}, True
    if angle >= 90 - max_deg:
        x = px((cut["x0"] + cut["x1"]) / 2)
        return {**cut, "x0": x, "x1": x}, True
    return dict(cut), False


def snap_cut(cut: Cut, geometry: dict[str, Any], others: list[Cut], width: int, height: int
             ) -> tuple[Cut, list[str]]:
    """One cut snapped: straightened, moved onto a gutter (vertical) or rule close by, and its ends moved
    onto the nearest perpendicular cut, gutter, rule or frame side. Returns the cut (in page bounds) and
    what it snapped to ("axis", "gutter", "rule", "end:cut", "end:frame", ...), empty when nothing."""
    c, straight = straighten(cut)
    what = ["axis"] if straight else []
    if not straight:
        return _clamp(c, width, height), what
    line, end = SNAP_LINE * width, SNAP_END * width
    vertical, pos, a, b = _axis(c)
    fx0, fy0, fx1, fy1 = geometry["frame"]
    rules = [_axis({"x0": r[0], "y0": r[1], "x1": r[2], "y1": r[3]}) for r in geometry["rules"]]
    perpendicular = [_axis(o) for o in others if is_vertical(o) != vertical]
    if vertical:
        lines = [("gutter", g) for g in geometry["gutters"]] + \
            [("rule", p) for v, p, s, e in rules if v and s - end <= (a + b) / 2 <= e + end]
    else:
        lines = [("rule", p) for v, p, s, e in rules if not v and min(e, b) - max(s, a) >= 0.5 * (b - a)]
    hit = min(lines, key=lambda t: abs(t[1] - pos), default=None)
    if hit is not None and abs(hit[1] - pos) <= line:
        pos = hit[1]
        what.append(hit[0])
    # ends: onto perpendicular cuts crossing this line, the frame's sides, the grid
    ends: list[tuple[str, float]] = [("cut", p) for v, p, s, e in perpendicular if s - end <= pos <= e + end]
    if vertical:
        ends += [("frame", fy0), ("frame", fy1)]
        ends += [("rule", p) for v, p, s, e in rules if not v and s - end <= pos <= e + end]
    else:
        ends += [("frame", fx0), ("frame", fx1)] + [("gutter", g) for g in geometry["gutters"]]
        ends += [("rule", p) for v, p, s, e in rules if v and s - end <= pos <= e + end]
    snapped_ends = []
    for k, value in enumerate((a, b)):
        best = min(ends, key=lambda t: (abs(t[1] - value), t[0] != "cut"), default=None)
        if best is not None and abs(best[1] - value) <= end:
            snapped_ends.append(best[1])
            what.append(f"end:{best[0]}")
        else:
            snapped_ends.append(value)
    if abs(snapped_ends[1] - snapped_ends[0]) >= 1:  # both ends on one line: keep them where they were
        a, b = sorted(snapped_ends)
    return _clamp(_cut(vertical, pos, a, b, cut), width, height), what


def _clamp(c: Cut, width: int, height: int) -> Cut:
    """The cut in whole pixels inside the page."""
    out = dict(c)
    for k in ("x0", "x1"):
        out[k] = min(max(px(out[k]), 0), width)
    for k in ("y0", "y1"):
        out[k] = min(max(px(out[k]), 0), height)
    return out


# ---- threshold preview ----------------------------------------------------------------------------------

def cuts_at_threshold(candidates: list[Cut], threshold: float) -> list[Cut]:
    """The model's cuts at another threshold: each candidate carries the highest threshold at which the
    model still proposes it (its ``confidence``), so the cuts at ``threshold`` are those reaching it."""
    return [{k: c[k] for k in ("x0", "y0", "x1", "y1")} | {"score": c["confidence"]}
            for c in candidates if c.get("confidence", 0.0) >= threshold]


def same_line(a: Cut, b: Cut, tol: float) -> bool:
    """Two cuts on one line (same orientation, within ``tol`` across, overlapping along by half the shorter)."""
    va, pa, sa, ea = _axis(a)
    vb, pb, sb, eb = _axis(b)
    if va != vb or abs(pa - pb) > tol:
        return False
    return min(ea, eb) - max(sa, sb) >= 0.5 * min(ea - sa, eb - sb)


def candidates_from_levels(levels: dict[float, list[Cut]], tau: float, width: float) -> list[Cut]:
    """Cut candidates with confidences from the cuts a model proposes at several thresholds (``levels``,
    which include ``tau``, the threshold in use). The cuts at ``tau`` are the candidates, each with the highest
    threshold up to which the model keeps proposing it without a break; cuts that appear only below ``tau``
    join with the threshold where they first appear. So ``cuts_at_threshold(candidates, tau)`` is the
    proposal itself."""
    tol = 0.01 * width
    out = [{**{k: c[k] for k in ("x0", "y0", "x1", "y1")}, "confidence": tau} for c in levels.get(tau, [])]
    for c in out:
        for t in sorted(t for t in levels if t > tau):
            if not any(same_line(c, d, tol) for d in levels[t]):
                break
            c["confidence"] = t
    for t in sorted((t for t in levels if t < tau), reverse=True):
        for d in levels[t]:
            if not any(same_line(c, d, tol) for c in out):
                out.append({**{k: d[k] for k in ("x0", "y0", "x1", "y1")}, "confidence": t})
    for c in out:
        c["confidence"] = round(float(c["confidence"]), 4)
    return out

def recompute(*, cuts: list[Cut], geometry: dict[str, Any], width: int, height: int,
              previous: list[dict] | None = None, snap: list[int] | None = None,
              merge: tuple[str, str] | None = None) -> dict[str, Any]:
    """What the editor asks after an edit: the cuts with those at the ``snap`` indices snapped (against the
    others), optionally two articles merged, and the articles the cuts make (ids and order kept)."""
    cuts = [_clamp(c, width, height) for c in cuts]  # whole pixels, in the page
    snapped = []
    for i in snap or []:
        others = [c for k, c in enumerate(cuts) if k != i]
        cuts[i], what = snap_cut(cuts[i], geometry, others, width, height)
        snapped.append({"index": i, "to": what})
    if merge is not None:
        cuts = merge_articles(cuts, previous or [], merge[0], merge[1], geometry, width)
    articles = articles_from_cuts(cuts, geometry, width, height, previous)
    return {"cuts": cuts, "articles": articles, "snapped": snapped}
