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
end. Tolerances are shares of the page width, so they fit every resolution.
"""
from __future__ import annotations

import math
from typing import Any

SNAP_ANGLE_DEG = 5.0    # a drawn cut within this many degrees of horizontal / vertical is made exactly so
SNAP_LINE = 0.012       # a cut moves onto a gutter or rule this close (share of the page width)
SNAP_END = 0.02         # a cut's end moves onto a perpendicular cut, gutter or frame side this close
JUNCTION = 0.006        # cut positions this close are one grid line (ends meeting a cut close the gap)
MIN_ARTICLE = 0.002     # pieces smaller than this share of the frame are slivers, not articles
MAX_CELLS = 40_000      # grid cells of one page (a broadsheet with 40 cuts has a few thousand)

Cut = dict[str, Any]


class TooComplex(ValueError):
    """More distinct cut positions than a page has: the partition would take too long."""


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


def px(v: float) -> int:
    """Whole page pixels, as PAGE XML stores them (halves up): an answer in them round-trips exactly."""
    return math.floor(float(v) + 0.5)


def is_vertical(c: Cut) -> bool:
    return abs(c["x1"] - c["x0"]) < abs(c["y1"] - c["y0"])


def _axis(c: Cut) -> tuple[bool, float, float, float]:
    """(vertical, position across, start along, end along) of a cut taken as horizontal or vertical."""
    if is_vertical(c):
        return True, (c["x0"] + c["x1"]) / 2, min(c["y0"], c["y1"]), max(c["y0"], c["y1"])
    return False, (c["y0"] + c["y1"]) / 2, min(c["x0"], c["x1"]), max(c["x0"], c["x1"])


def _cut(vertical: bool, pos: float, a: float, b: float, extra: Cut | None = None) -> Cut:
    out = {k: v for k, v in (extra or {}).items() if k not in ("x0", "y0", "x1", "y1")}
    r = px
    if vertical:
        return {"x0": r(pos), "y0": r(a), "x1": r(pos), "y1": r(b), **out}
    return {"x0": r(a), "y0": r(pos), "x1": r(b), "y1": r(pos), **out}


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


# ---- the partition --------------------------------------------------------------------------------------

class _Grid:
    """The frame cut into cells on every cut position, the walls the cuts make, and the articles."""

    def __init__(self, cuts: list[Cut], frame: list[float], width: float):
        fx0, fy0, fx1, fy1 = frame
        tol = JUNCTION * width
        self.tol = tol
        axes = [_axis(c) for c in cuts]
        # grid lines: the frame, the cuts, and where cuts end (a cut ending in the open stops its wall there)
        self.xs = _cluster([p for v, p, _, _ in axes if v and fx0 < p < fx1],
                           [e for v, _, s, t in axes if not v for e in (s, t) if fx0 < e < fx1], tol, (fx0, fx1))
        self.ys = _cluster([p for v, p, _, _ in axes if not v and fy0 < p < fy1],
                           [e for v, _, s, t in axes if v for e in (s, t) if fy0 < e < fy1], tol, (fy0, fy1))
        if (len(self.xs) - 1) * (len(self.ys) - 1) > MAX_CELLS:
            raise TooComplex(f"the cuts make a grid of {len(self.xs) - 1} x {len(self.ys) - 1} cells; at most "
                             f"{MAX_CELLS} are computed")
        # walls[(vertical, line index)] = set of cell intervals along that line blocked by a cut
        self.walls: dict[tuple[bool, int], set[int]] = {}
        self.owner: dict[tuple[bool, int, int], list[int]] = {}  # which cuts make a wall piece
        for n, (v, p, a, b) in enumerate(axes):
            across, along = (self.xs, self.ys) if v else (self.ys, self.xs)
            i = _index(across, p, tol)
            if i is None or i in (0, len(across) - 1):
                continue  # on the frame, or not on the grid (outside the frame)
            a, b = _extend(a, along, tol), _extend(b, along, tol)
            for k in range(len(along) - 1):
                mid = (along[k] + along[k + 1]) / 2
                if a <= mid <= b:
                    self.walls.setdefault((v, i), set()).add(k)
                    self.owner.setdefault((v, i, k), []).append(n)
        self.nx, self.ny = len(self.xs) - 1, len(self.ys) - 1
        parent = list(range(self.nx * self.ny))

        def find(u):
            while parent[u] != u:
                parent[u] = parent[parent[u]]
                u = parent[u]
            return u

        for j in range(self.ny):
            for i in range(self.nx):
                if i + 1 < self.nx and j not in self.walls.get((True, i + 1), ()):
                    parent[find(j * self.nx + i)] = find(j * self.nx + i + 1)
                if j + 1 < self.ny and i not in self.walls.get((False, j + 1), ()):
                    parent[find(j * self.nx + i)] = find((j + 1) * self.nx + i)
        groups: dict[int, list[tuple[int, int]]] = {}
        for j in range(self.ny):
            for i in range(self.nx):
                groups.setdefault(find(j * self.nx + i), []).append((i, j))
        area = (fx1 - fx0) * (fy1 - fy0)
        self.pieces = [cells for cells in groups.values() if self.area(cells) >= MIN_ARTICLE * area]

    def rect(self, cell: tuple[int, int]) -> tuple[float, float, float, float]:
        i, j = cell
        return self.xs[i], self.ys[j], self.xs[i + 1], self.ys[j + 1]

    def area(self, cells) -> float:
        return sum((r[2] - r[0]) * (r[3] - r[1]) for r in map(self.rect, cells))

    def shared_walls(self, a: set, b: set) -> list[tuple[bool, int, int]]:
        """The wall pieces between two groups of cells: (vertical, line index, cell interval along)."""
        out = []
        for (i, j) in a:
            for (di, dj, v, line, k) in ((1, 0, True, i + 1, j), (-1, 0, True, i, j),
                                         (0, 1, False, j + 1, i), (0, -1, False, j, i)):
                if (i + di, j + dj) in b and k in self.walls.get((v, line), ()):
                    out.append((v, line, k))
        return out


def _cluster(lines: list[float], ends: list[float], tol: float, frame: tuple[float, float]) -> list[float]:
    """Sorted grid positions, those closer than ``tol`` made one: the frame's side where it is in the group,
    else the cuts' mean position, else the ends' mean."""
    tagged = sorted([(v, 0) for v in frame] + [(v, 1) for v in lines] + [(v, 2) for v in ends])
    groups: list[list[tuple[float, int]]] = []
    for v, tag in tagged:
        if groups and v - groups[-1][-1][0] <= tol:
            groups[-1].append((v, tag))
        else:
            groups.append([(v, tag)])
    out = []
    for group in groups:
        best = min(tag for _, tag in group)
        values = [v for v, tag in group if tag == best]
        out.append(values[0] if best == 0 else px(sum(values) / len(values)))
    return out


def _index(lines: list[float], p: float, tol: float) -> int | None:
    k = min(range(len(lines)), key=lambda i: abs(lines[i] - p))
    return k if abs(lines[k] - p) <= tol else None


def _extend(v: float, lines: list[float], tol: float) -> float:
    """An end within ``tol`` of a grid line is on it (a cut ending on another one closes the gap)."""
    k = _index(lines, v, tol)
    return lines[k] if k is not None else v


def rects_outline(rects: list[tuple[float, float, float, float]]) -> list[list[float]]:
    """Outer outline (clockwise in image coordinates, no collinear points) of a union of grid rectangles."""
    xs = sorted({r[0] for r in rects} | {r[2] for r in rects})
    ys = sorted({r[1] for r in rects} | {r[3] for r in rects})
    xi, yi = {v: i for i, v in enumerate(xs)}, {v: i for i, v in enumerate(ys)}
    filled = set()
    for r in rects:
        for j in range(yi[r[1]], yi[r[3]]):
            for i in range(xi[r[0]], xi[r[2]]):
                filled.add((i, j))
    nxt: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for (i, j) in sorted(filled, key=lambda c: (c[1], c[0])):  # row by row: the ring starts top left
        if (i, j - 1) not in filled:
            nxt.setdefault((i, j), []).append((i + 1, j))
        if (i + 1, j) not in filled:
            nxt.setdefault((i + 1, j), []).append((i + 1, j + 1))
        if (i, j + 1) not in filled:
            nxt.setdefault((i + 1, j + 1), []).append((i, j + 1))
        if (i - 1, j) not in filled:
            nxt.setdefault((i, j + 1), []).append((i, j))
    rings = []
    while nxt:
        start = next(iter(nxt))
        ring, p = [start], start
        while p in nxt:
            q = nxt[p].pop()
            if not nxt[p]:
                del nxt[p]
            if q == start:
                break
            ring.append(q)
            p = q
        rings.append([[xs[i], ys[j]] for i, j in ring])
    ring = max(rings, key=lambda r: abs(_area(r)))
    return _drop_collinear(ring)


def _area(pts) -> float:
    n = len(pts)
    return 0.5 * sum(pts[k][0] * pts[(k + 1) % n][1] - pts[(k + 1) % n][0] * pts[k][1] for k in range(n))


def _drop_collinear(pts: list[list[float]]) -> list[list[float]]:
    out = list(pts)
    k = 0
    while len(out) > 3 and k < len(out):
        a, b, c = out[k - 1], out[k], out[(k + 1) % len(out)]
        if (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) == 0:
            del out[k]
            k = max(0, k - 1)
        else:
            k += 1
    return out


def point_in_polygon(x: float, y: float, polygon: list[list[float]]) -> bool:
    inside, n = False, len(polygon)
    for k in range(n):
        (x0, y0), (x1, y1) = polygon[k][:2], polygon[(k + 1) % n][:2]
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _bucket(v: float, extent: float, n: int) -> int:
    return min(n - 1, max(0, int(v / max(extent, 1.0) * n)))


def _geometric_order(piece_rects: list[list[tuple]], band: float) -> list[int]:
    """Top to bottom by bands, left to right within a band (where no earlier order says otherwise)."""
    return sorted(range(len(piece_rects)), key=lambda k: (min(r[1] for r in piece_rects[k]) // band,
                                                          min(r[0] for r in piece_rects[k])))


def articles_from_cuts(cuts: list[Cut], geometry: dict[str, Any], width: int, height: int,
                       previous: list[dict] | None = None) -> list[dict]:
    """The articles the cuts make of the frame, in reading order, as ``[{"id", "polygon"}]``.

    Ids and order follow ``previous`` (the articles before the edit): each new piece keeps the id of the old
    article it overlaps most (one piece per id), and takes that article's place in the reading order; a
    piece split off an article comes right after it, merged pieces take the earliest place; new ids are
    ``a<n>`` past the highest one in use."""
    grid = _Grid(cuts, geometry["frame"], width)
    rects = [[grid.rect(c) for c in cells] for cells in grid.pieces]
    previous = [a for a in (previous or []) if a.get("polygon") and len(a["polygon"]) >= 3]
    # which old articles hold each cell's centre: old articles bucketed by their bounding boxes on a coarse grid
    n_b = 32
    buckets: dict[tuple[int, int], list[int]] = {}
    for m, a in enumerate(previous):
        xs, ys = [p[0] for p in a["polygon"]], [p[1] for p in a["polygon"]]
        for bx in range(_bucket(min(xs), width, n_b), _bucket(max(xs), width, n_b) + 1):
            for by in range(_bucket(min(ys), height, n_b), _bucket(max(ys), height, n_b) + 1):
                buckets.setdefault((bx, by), []).append(m)
    overlap = [[0.0] * len(previous) for _ in rects]
    for k, rs in enumerate(rects):
        for r in rs:
            x, y = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
            for m in buckets.get((_bucket(x, width, n_b), _bucket(y, height, n_b)), ()):
                if point_in_polygon(x, y, previous[m]["polygon"]):
                    overlap[k][m] += (r[2] - r[0]) * (r[3] - r[1])
    ids: list[str | None] = [None] * len(rects)
    used: set[int] = set()
    # the largest overlaps first; on a tie the article earlier in reading order keeps its id (a merge)
    for value, k, m in sorted(((overlap[k][m], k, m) for k in range(len(rects)) for m in range(len(previous))),
                              key=lambda t: (-t[0], t[2], t[1])):
        if value <= 0 or ids[k] is not None or m in used:
            continue
        ids[k] = str(previous[m]["id"])
        used.add(m)
    geo = _geometric_order(rects, 0.05 * height) if rects else []
    geo_rank = {k: r for r, k in enumerate(geo)}

    def rank(k):  # the earliest place of the old articles it covers (a merge takes the first one's)
        first = next((m for m in range(len(previous)) if overlap[k][m] > 0), None)
        if first is None:
            return (len(previous), 1, geo_rank[k])
        return (first, 0 if ids[k] is not None else 1, geo_rank[k])

    taken = {str(a["id"]) for a in previous}
    n = max([int(i[1:]) for i in taken if i[:1] == "a" and i[1:].isdigit()] + [0])
    out = []
    for k in sorted(range(len(rects)), key=rank):
        if ids[k] is None:
            n += 1
            while f"a{n}" in taken:
                n += 1
            ids[k] = f"a{n}"
            taken.add(ids[k])
        out.append({"id": ids[k], "polygon": rects_outline(rects[k])})
    return out


def merge_articles(cuts: list[Cut], articles: list[dict], first: str, second: str, geometry: dict[str, Any],
                   width: int) -> list[Cut]:
    """The cuts with the pieces between two articles removed (the rest of a longer cut stays, in pieces).
    Raises ValueError when the two are not neighbours along a cut."""
    grid = _Grid(cuts, geometry["frame"], width)
    polys = {str(a["id"]): a["polygon"] for a in articles}
    if first not in polys or second not in polys or first == second:
        raise ValueError("merge needs two different article ids of this page")

    def cells_of(aid):
        return {c for cells in grid.pieces for c in cells
                if point_in_polygon(*_centre(grid.rect(c)), polys[aid])}

    a, b = cells_of(first), cells_of(second)
    shared = grid.shared_walls(a, b)
    if not shared:
        raise ValueError(f"articles {first} and {second} do not meet along a cut")
    removed: dict[int, list[tuple[float, float]]] = {}
    for v, line, k in shared:
        along = grid.ys if v else grid.xs
        for n in grid.owner.get((v, line, k), []):
            removed.setdefault(n, []).append((along[k], along[k + 1]))
    out = []
    for n, c in enumerate(cuts):
        if n not in removed:
            out.append(c)
            continue
        v, p, s, e = _axis(c)
        pieces = [(s, e)]
        for lo, hi in removed[n]:
            nxt = []
            for ps, pe in pieces:
                if pe <= lo + grid.tol or ps >= hi - grid.tol:
                    nxt.append((ps, pe))
                    continue
                if lo - ps > grid.tol:
                    nxt.append((ps, lo))
                if pe - hi > grid.tol:
                    nxt.append((hi, pe))
            pieces = nxt
        out += [_cut(v, p, ps, pe, c) for ps, pe in pieces if pe - ps >= 1]
    return out


def _centre(r) -> tuple[float, float]:
    return (r[0] + r[2]) / 2, (r[1] + r[3]) / 2


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
