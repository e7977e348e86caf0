"""The partition of a newspaper page's text frame by its cuts: the grid of all cut positions and cut ends,
the articles (connected cells, outlined exactly), their ids and reading order carried over from the articles
before an edit, and merging two articles by removing the cuts between them. Pure Python (the web process
imports it); ``formats.articles.layout`` is the entry point.
"""
from __future__ import annotations

import math
from typing import Any

JUNCTION = 0.006        # cut positions this close are one grid line (ends meeting a cut close the gap)
MIN_ARTICLE = 0.002     # pieces smaller than this share of the frame are slivers, not articles
MAX_CELLS = 40_000      # grid cells of one page (a broadsheet with 40 cuts has a few thousand)

Cut = dict[str, Any]


class TooComplex(ValueError):
    """More distinct cut positions than a page has: the partition would take too long."""


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
