"""Snap the network's cut segments onto the page's own layout geometry.

The FCN works on a small working copy (256 px wide on the CPU preset), where one pixel is about 1% of the
page width, the very tolerance within which a cut counts as right. Its decisions (is there a cut here?)
are good; its geometry (where exactly, and where it ends) is coarse. Newspaper layouts are rectilinear: a
vertical cut lies on the mid-line of a column gutter, a horizontal one in the white band (or on the rule)
between two stacked articles, and every cut ends on another cut or on the frame of the text area. This
module re-measures those facts on the page image at a higher resolution and moves each segment onto them:

1. vertical cuts onto the centre of the white gutter beside them (rules and frames are not ink here; the
   ink is split into rules and text by ``ml.articles.inkmask``, robust to scans);
2. horizontal cuts onto a rule drawn along them when there is one;
3. the frame of the text area (leftmost / rightmost text, the masthead rule, the lowest text);
4. endpoints onto the nearest perpendicular cut, gutter or frame edge within a snapping distance;
5. collinear pieces that now touch are joined (a cut is a maximal segment).

All distances are fractions of the page width, so the same settings fit every resolution.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.articles.inkmask import DEFAULT as DEFAULT_INK
from ml.articles.inkmask import InkOptions, split_ink  # noqa: F401  (split_ink: part of this module's interface)
from ml.articles.postprocess import Segment

GEOMETRY_WIDTH = 1024      # the page is measured at this width (or its own, when smaller)


@dataclass
class GeometryPrior:
    """Offsets between the layout grid and the ink, as fractions of the page width. Defaults are the medians
    over the training styles; ``calibrate_geometry`` measures them per publisher on annotated pages."""
    top_pad: float = 0.017          # the frame's top lies this far above the first text below the masthead
    bottom_pad: float = 0.018       # the frame's bottom lies this far below the lowest text
    side_pad: float = 0.011         # the frame's sides lie this far outside the outermost text
    cut_above_text: float = 0.0185  # a horizontal cut without a rule lies this far above the article below

    def to_json(self) -> dict:
        return {k: round(float(v), 5) for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, d: dict | None) -> "GeometryPrior":
        d = d or {}
        return cls(**{k: float(d[k]) for k in cls.__dataclass_fields__ if k in d})

    @classmethod
    def for_publisher(cls, geometry: dict | None, publisher: str | None) -> "GeometryPrior":
        """The publisher's prior from a checkpoint's ``geometry`` table (its ``default`` for an unknown one)."""
        geometry = geometry or {}
        return cls.from_json(geometry.get(publisher or "", geometry.get("default")))


@dataclass
class Frame:
    left: float
    right: float
    top: float
    bottom: float


def geometry_image(page: np.ndarray) -> np.ndarray:
    """The page in grayscale at ``GEOMETRY_WIDTH`` (area resize) or its own width when smaller."""
    if page.ndim == 2:
        g = page
    else:
        g = cv2.cvtColor(page, cv2.COLOR_RGBA2GRAY if page.shape[2] == 4 else cv2.COLOR_RGB2GRAY)
    h, w = g.shape
    if w > GEOMETRY_WIDTH:
        g = cv2.resize(g, (GEOMETRY_WIDTH, max(8, round(h * GEOMETRY_WIDTH / w))), interpolation=cv2.INTER_AREA)
    return g


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the True runs of a 1-D boolean array."""
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))


def white_run_near(profile: np.ndarray, offset: int, at: float, min_width: float, max_width: float = np.inf,
                   max_ink: float = 0.02) -> tuple[float, float] | None:
    """The white run (ink share <= ``max_ink``) of ``profile`` closest to position ``at``, ``min_width`` to
    ``max_width`` wide, as (start, end) in page coordinates; None when there is none."""
    runs = [(offset + a, offset + b) for a, b in _runs(profile <= max_ink) if min_width <= b - a <= max_width]
    if not runs:
        return None
    return min(runs, key=lambda r: 0.0 if r[0] <= at <= r[1] else min(abs(r[0] - at), abs(r[1] - at)))


def _span(lo: float, hi: float, n: int, shrink: float = 0.1) -> slice:
    a, b = lo + shrink * (hi - lo), hi - shrink * (hi - lo)
    a, b = int(np.clip(np.floor(a), 0, n - 1)), int(np.clip(np.ceil(b), 1, n))
    return slice(a, max(a + 1, b))


def gutter_centre(text: np.ndarray, x: float, y0: float, y1: float, radius: float, min_width: float,
                  max_width: float) -> tuple[float, float] | None:
    """Centre and width of the white gutter nearest ``x`` along rows y0..y1 (None: no gutter there). A white
    run wider than ``max_width`` is blank space (a column that ended early), not a gutter."""
    h, w = text.shape
    a, b = int(max(0, np.floor(x - radius))), int(min(w, np.ceil(x + radius) + 1))
    if b - a < 2:
        return None
    prof = text[_span(y0, y1, h), a:b].mean(0)
    run = white_run_near(prof, a, x, min_width, max_width)
    if run is None:
        return None
    return 0.5 * (run[0] + run[1]), float(run[1] - run[0])


def rule_along(rules: np.ndarray, y: float, x0: float, x1: float, radius: float) -> float | None:
    """Row of a horizontal rule covering most of x0..x1 within ``radius`` of ``y`` (None: no rule). Two
    close rules (the bottom of one article's box and the top of the next one's) stand for their mid-line."""
    h, w = rules.shape
    a, b = int(max(0, np.floor(y - radius))), int(min(h, np.ceil(y + radius) + 1))
    if b - a < 1:
        return None
    mids = [a + 0.5 * (r0 + r1) for r0, r1 in _runs(rules[a:b, _span(x0, x1, w)].mean(1) >= 0.6)]
    if not mids:
        return None
    cands = mids + [0.5 * (p + q) for p, q in zip(mids, mids[1:]) if q - p <= 0.035 * w]
    pairs = cands[len(mids):]
    return min(pairs or cands, key=lambda m: abs(m - y))


def top_of_text_below(text: np.ndarray, y: float, x0: float, x1: float, radius: float, min_gap: float
                      ) -> float | None:
    """Where the ink resumes below the white band between two stacked articles nearest ``y``: the top of the
    article below (its upper neighbour's columns may end raggedly, so the band's top says little)."""
    h, w = text.shape
    a, b = int(max(0, np.floor(y - radius))), int(min(h, np.ceil(y + radius) + 1))
    if b - a < 2:
        return None
    run = white_run_near(text[a:b, _span(x0, x1, w, 0.05)].mean(1), a, y, min_gap)
    return None if run is None or run[1] >= b else float(run[1])


def text_extent(text: np.ndarray, rules: np.ndarray) -> tuple[float, float, float, float]:
    """Left, right, top (first text below the masthead rule) and bottom of the text area."""
    h, w = text.shape
    cols = np.nonzero(text.mean(0) > 0.01)[0]
    left, right = (int(cols[0]), int(cols[-1] + 1)) if len(cols) else (0, w)
    # the masthead ends with the first rule that spans most of the text width (boxes come later)
    runs = _runs(rules[: h // 4, left:right].mean(1) >= 0.7)
    below = runs[0][1] if runs else 0
    rows = np.nonzero(text[below:, left:right].mean(1) > 0.002)[0]
    top = float(below + rows[0]) if len(rows) else float(below)
    bottom = float(below + rows[-1] + 1) if len(rows) else float(h)
    return float(left), float(right), top, bottom


def column_grid(text: np.ndarray, extent: tuple[float, float, float, float], min_w: float, max_w: float
                ) -> list[float]:
    """Gutter mid-lines of the page's column grid. Gutters are white from top to bottom except where a
    headline or photo spans columns, so some show in the page-wide ink profile and some do not; newspapers
    set equal columns, so the grid (column count, pitch) that explains the visible gutters gives them all."""
    left, right, top, bottom = (int(round(v)) for v in extent)
    if right - left < 8 or bottom - top < 8:
        return []
    prof = text[top:bottom, left:right].mean(0)
    low = prof < 0.3 * max(1e-6, float(np.median(prof)))
    seen = [(left + a, left + b) for a, b in _runs(low) if min_w <= b - a <= max_w]
    if not seen:
        return []
    g = float(np.median([b - a for a, b in seen]))
    centres = [0.5 * (a + b) for a, b in seen]
    tol = max(2.0, 0.006 * text.shape[1])
    best: tuple[float, list[float]] = (-1.0, [])
    for n in range(2, 13):
        pitch = (right - left + g) / n
        if pitch < 3 * g:
            break
        grid = [left + k * pitch - 0.5 * g for k in range(1, n)]
        matched = sum(any(abs(c - p) <= tol for p in grid) for c in centres)
        if matched < 0.75 * len(centres):
            continue
        # predicted gutters must be white-ish where nothing spans them
        support = [float(prof[int(p - left - g / 4):int(p - left + g / 4) + 1].mean()) for p in grid]
        ok = sum(s < 0.5 * float(np.median(prof)) for s in support)
        score = ok - (len(grid) - ok) * 2.0
        if score > best[0]:
            best = (score, grid)
    return best[1] or centres


def text_frame(extent: tuple[float, float, float, float], w: int, prior: GeometryPrior) -> Frame:
    """The frame that the layout grid's outer cells share, from the text area and the prior's offsets."""
    left, right, top, bottom = extent
    return Frame(left - prior.side_pad * w, right + prior.side_pad * w, top - prior.top_pad * w,
                 bottom + prior.bottom_pad * w)


def _nearest(value: float, candidates: list[float], limit: float) -> float | None:
    best = min(candidates, key=lambda c: abs(c - value), default=None)
    return best if best is not None and abs(best - value) <= limit else None


def _join_collinear(segs: list[Segment], vertical: bool, tol: float) -> list[Segment]:
    """Collinear segments that touch or overlap become one (a cut is a maximal segment)."""
    def pos(s): return s.x0 if vertical else s.y0
    def lo(s): return s.y0 if vertical else s.x0
    def hi(s): return s.y1 if vertical else s.x1
    out: list[Segment] = []
    for s in sorted(segs, key=lambda s: (pos(s), lo(s))):
        for t in out:
            if abs(pos(t) - pos(s)) <= tol and lo(s) <= hi(t) + tol and hi(s) >= lo(t) - tol:
                lt, ls = hi(t) - lo(t), hi(s) - lo(s)
                p = (pos(t) * lt + pos(s) * ls) / max(1e-6, lt + ls)
                a, b = min(lo(t), lo(s)), max(hi(t), hi(s))
                t.x0, t.y0, t.x1, t.y1 = (p, a, p, b) if vertical else (a, p, b, p)
                t.score = max(t.score, s.score)
                break
        else:
            out.append(Segment(s.x0, s.y0, s.x1, s.y1, s.score))
    return out


def _bridge_gaps(vs: list[Segment], hs: list[Segment], tol: float, gap: float) -> list[Segment]:
    """Join two pieces of one vertical cut whose probability dipped between them (under a headline, say),
    unless a horizontal cut passes right through the gap: then they are two cuts, above and below it."""
    vs = sorted(vs, key=lambda v: (v.x0, v.y0))
    out: list[Segment] = []
    for v in vs:
        prev = next((u for u in reversed(out) if abs(u.x0 - v.x0) <= tol), None)
        if prev is not None and 0 <= v.y0 - prev.y1 <= gap:
            through = any(s.x0 < v.x0 - tol and s.x1 > v.x0 + tol and prev.y1 - tol <= s.y0 <= v.y0 + tol for s in hs)
            if not through:
                prev.y1 = v.y1
                prev.score = max(prev.score, v.score)
                continue
        out.append(v)
    return out


def line_probability(prob: np.ndarray, scale: tuple[float, float], s: Segment, n: int = 24) -> float:
    """Mean cut probability along a segment (geometry pixels; ``prob`` at the working resolution, ``scale``
    = geometry pixels per working pixel), the best of three neighbouring lines across it."""
    kx, ky = scale
    h, w = prob.shape
    t = np.linspace(0.05, 0.95, n)
    xs = (s.x0 + t * (s.x1 - s.x0)) / kx
    ys = (s.y0 + t * (s.y1 - s.y0)) / ky
    best = 0.0
    for d in (-1, 0, 1):
        xi = np.clip(np.round(xs + (d if s.vertical else 0)).astype(int), 0, w - 1)
        yi = np.clip(np.round(ys + (0 if s.vertical else d)).astype(int), 0, h - 1)
        best = max(best, float(prob[yi, xi].mean()))
    return best


def split_at_junctions(vs: list[Segment], hs: list[Segment], prob: np.ndarray, scale: tuple[float, float],
                       tau: float, tol: float) -> list[Segment]:
    """A vertical cut that runs on past a junction where its neighbours become one article has a weak
    stretch there: split each vertical at the horizontal cuts meeting it and keep the pieces the network
    holds to be cuts (mean probability >= ``tau``); the kept pieces are joined again."""
    out: list[Segment] = []
    for v in vs:
        ys = sorted({s.y0 for s in hs if s.x0 - tol <= v.x0 <= s.x1 + tol and v.y0 + tol < s.y0 < v.y1 - tol})
        if not ys:
            out.append(v)
            continue
        edges = [v.y0] + ys + [v.y1]
        pieces = [Segment(v.x0, a, v.x0, b, v.score) for a, b in zip(edges, edges[1:])]
        kept = [p for p in pieces if line_probability(prob, scale, p) >= tau]
        out.extend(_join_collinear(kept, True, tol))
    return out


def text_on_both_sides(text: np.ndarray, s: Segment, near: float, far: float, min_share: float = 0.01) -> bool:
    """A cut separates two articles: there is text (or a photo) on both sides of it."""
    h, w = text.shape
    if s.vertical:
        rows = _span(s.y0, s.y1, h)
        a = text[rows, int(max(0, s.x0 - far)):int(max(0, s.x0 - near)) + 1]
        b = text[rows, int(min(w - 1, s.x0 + near)):int(min(w, s.x0 + far)) + 1]
    else:
        cols = _span(s.x0, s.x1, w)
        a = text[int(max(0, s.y0 - far)):int(max(0, s.y0 - near)) + 1, cols]
        b = text[int(min(h - 1, s.y0 + near)):int(min(h, s.y0 + far)) + 1, cols]
    return a.size > 0 and b.size > 0 and a.mean() >= min_share and b.mean() >= min_share


def _ordered(segs: list[Segment]) -> tuple[list[Segment], list[Segment]]:
    vs = [Segment(s.x0, min(s.y0, s.y1), s.x0, max(s.y0, s.y1), s.score) for s in segs if s.vertical]
    hs = [Segment(min(s.x0, s.x1), s.y0, max(s.x0, s.x1), s.y0, s.score) for s in segs if not s.vertical]
    return vs, hs


@dataclass
class PageGeometry:
    """What the refinement measures on a page once (a calibration sweep over tau reuses it)."""
    width: int
    height: int
    rules: np.ndarray
    text: np.ndarray
    extent: tuple[float, float, float, float]
    gutters: list[float]

    @classmethod
    def measure(cls, page: np.ndarray, ink: InkOptions = DEFAULT_INK) -> "PageGeometry":
        gray = geometry_image(page)
        h, w = gray.shape
        rules, text = split_ink(gray, ink)
        extent = text_extent(text, rules)
        return cls(w, h, rules, text, extent, column_grid(text, extent, 0.004 * w, 0.035 * w))


def refine_cuts(segs: list[Segment], geo: PageGeometry, prior: GeometryPrior | None = None,
                snap: float = 0.05, prob: np.ndarray | None = None, scale: tuple[float, float] = (1.0, 1.0),
                tau: float = 0.5) -> list[Segment]:
    """Segments in the geometry image's pixels, moved onto the page's gutters, rules, junctions and frame.
    With the cut probability map (``prob``, working pixels; ``scale``: geometry pixels per working pixel),
    verticals are re-scored piecewise between junctions (see ``split_at_junctions``)."""
    if not segs:
        return []
    prior = prior or GeometryPrior()
    w, text, rules = geo.width, geo.text, geo.rules
    radius, snap_d = 0.02 * w, snap * w
    min_g, max_g = 0.004 * w, 0.035 * w
    vs, hs = _ordered(segs)
    for v in vs:
        x = _nearest(v.x0, geo.gutters, radius)
        if x is None:
            g = gutter_centre(text, v.x0, v.y0, v.y1, radius, min_g, max_g)
            x = None if g is None else g[0]
        if x is not None:
            v.x0 = v.x1 = x
    for s in hs:
        y = rule_along(rules, s.y0, s.x0, s.x1, 0.012 * w)
        if y is None:
            top = top_of_text_below(text, s.y0, s.x0, s.x1, 0.04 * w, 0.008 * w)
            y = None if top is None else top - prior.cut_above_text * w
        if y is not None and abs(y - s.y0) <= 0.03 * w:
            s.y0 = s.y1 = y
    frame = text_frame(geo.extent, w, prior)
    vs = _join_collinear(vs, True, 0.006 * w)
    # horizontal ends: on a vertical cut, a gutter of the column grid, or the frame's side
    for s in hs:
        for end in ("x0", "x1"):
            cands = [v.x0 for v in vs if v.y0 - snap_d <= s.y0 <= v.y1 + snap_d] + geo.gutters + \
                [frame.left, frame.right]
            best = _nearest(getattr(s, end), cands, snap_d)
            if best is not None:
                setattr(s, end, best)
    hs = _join_collinear(hs, False, 0.006 * w)
    # vertical ends: on a horizontal cut across the gutter, or the frame's top or bottom
    for v in vs:
        for end in ("y0", "y1"):
            cands = [s.y0 for s in hs if s.x0 - snap_d <= v.x0 <= s.x1 + snap_d] + [frame.top, frame.bottom]
            best = _nearest(getattr(v, end), cands, snap_d)
            if best is not None:
                setattr(v, end, best)
    vs = _bridge_gaps(_join_collinear(vs, True, 0.006 * w), hs, 0.006 * w, 0.05 * w)
    if prob is not None:
        vs = split_at_junctions(vs, hs, prob, scale, tau, 0.006 * w)
    keep = [s for s in vs + hs if s.length >= 0.02 * w]
    # above a horizontal cut, the columns of the article may have ended well before it: look further
    return [s for s in keep if text_on_both_sides(text, s, 0.004 * w, (0.04 if s.vertical else 0.15) * w)]


def measure_geometry(geo: PageGeometry, cuts: list[dict], scale: float) -> dict[str, list[float]]:
    """The prior's offsets as seen on one annotated page (``cuts`` in page pixels, ``scale`` = geometry image
    pixels per page pixel)."""
    w, rules, text = geo.width, geo.rules, geo.text
    left, right, top, bottom = geo.extent
    near = 0.05 * w
    # cuts carried into a deskewed page's frame are axis-parallel only up to rounding
    vs = [c for c in cuts if abs(c["x1"] - c["x0"]) < abs(c["y1"] - c["y0"])]
    hs = [c for c in cuts if abs(c["x1"] - c["x0"]) >= abs(c["y1"] - c["y0"])]
    out: dict[str, list[float]] = {"top_pad": [], "bottom_pad": [], "side_pad": [], "cut_above_text": []}
    ends_y = [min(c["y0"], c["y1"]) * scale for c in vs]
    if ends_y and abs(top - min(ends_y)) < near:
        out["top_pad"].append((top - min(ends_y)) / w)
    low = [max(c["y0"], c["y1"]) * scale for c in vs]
    if low and abs(max(low) - bottom) < near:
        out["bottom_pad"].append((max(low) - bottom) / w)
    for c in hs:
        x0, x1, y = min(c["x0"], c["x1"]) * scale, max(c["x0"], c["x1"]) * scale, (c["y0"] + c["y1"]) / 2 * scale
        if abs(left - x0) < near:
            out["side_pad"].append((left - x0) / w)
        if abs(x1 - right) < near:
            out["side_pad"].append((x1 - right) / w)
        if rule_along(rules, y, x0, x1, 0.012 * w) is None:
            t = top_of_text_below(text, y, x0, x1, 0.04 * w, 0.008 * w)
            if t is not None:
                out["cut_above_text"].append((t - y) / w)
    return out


def calibrate_geometry(pages: list[tuple]) -> GeometryPrior:
    """The prior from annotated pages: (page image or its ``PageGeometry``, cuts in page pixels, page width in
    pixels) each; the default prior's value stands where the pages show nothing."""
    seen: dict[str, list[float]] = {}
    for image, cuts, page_w in pages:
        geo = image if isinstance(image, PageGeometry) else PageGeometry.measure(image)
        for k, v in measure_geometry(geo, cuts, geo.width / page_w).items():
            seen.setdefault(k, []).extend(v)
    base = GeometryPrior()
    return GeometryPrior(**{k: float(np.median(seen[k])) if seen.get(k) else getattr(base, k)
                            for k in base.__dataclass_fields__})
