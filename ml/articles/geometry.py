"""Small geometry helpers: exact outline of a union of axis-parallel rectangles, polygon rasterisation."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np


def rects_union_polygon(rects: Sequence[Sequence[float]]) -> list[list[int]]:
    """Outer outline (clockwise in image coordinates, no collinear points) of a union of rectangles
    ``(x0, y0, x1, y1)``. Exact: works on the compressed coordinate grid. The largest ring is returned."""
    xs = sorted({int(v) for r in rects for v in (r[0], r[2])})
    ys = sorted({int(v) for r in rects for v in (r[1], r[3])})
    xi = {v: i for i, v in enumerate(xs)}
    yi = {v: i for i, v in enumerate(ys)}
    grid = np.zeros((len(ys) + 1, len(xs) + 1), bool)  # padded by one on the far side
    for r in rects:
        grid[yi[int(r[1])]:yi[int(r[3])], xi[int(r[0])]:xi[int(r[2])]] = True
    H, W = len(ys) - 1, len(xs) - 1
    nxt: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def cell(j, i):
        return 0 <= j < H and 0 <= i < W and grid[j, i]

    for j in range(H):
        for i in range(W):
            if not grid[j, i]:
                continue
            if not cell(j - 1, i):
                nxt.setdefault((i, j), []).append((i + 1, j))
            if not cell(j, i + 1):
                nxt.setdefault((i + 1, j), []).append((i + 1, j + 1))
            if not cell(j + 1, i):
                nxt.setdefault((i + 1, j + 1), []).append((i, j + 1))
            if not cell(j, i - 1):
                nxt.setdefault((i, j + 1), []).append((i, j))
    rings = []
    while nxt:
        start = next(iter(nxt))
        ring, p = [start], start
        while True:
            q = nxt[p].pop()
            if not nxt[p]:
                del nxt[p]
            if q == start:
                break
            ring.append(q)
            p = q
            if p not in nxt:
                break
        rings.append(ring)
    ring = max(rings, key=lambda r: abs(polygon_area([(xs[i], ys[j]) for i, j in r])))
    pts = [(xs[i], ys[j]) for i, j in ring]
    return [list(map(int, p)) for p in simplify_collinear(pts)]


def simplify_collinear(pts: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    out = list(map(tuple, pts))
    changed = True
    while changed and len(out) > 3:
        changed = False
        for k in range(len(out)):
            a, b, c = out[k - 1], out[k], out[(k + 1) % len(out)]
            if (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) == 0:
                del out[k]
                changed = True
                break
    return out


def polygon_area(pts: Sequence[Sequence[float]]) -> float:
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def point_in_polygon(x: float, y: float, pts: Sequence[Sequence[float]]) -> bool:
    p = np.asarray(pts, np.float32).reshape(-1, 1, 2)
    return cv2.pointPolygonTest(p, (float(x), float(y)), False) > 0


def rasterize(polygons: Sequence[Sequence[Sequence[float]]], size: tuple[int, int], scale: float) -> np.ndarray:
    """Label image (0 = none, k = polygon k-1) of polygons given in original coordinates, scaled by ``scale``.
    ``size`` is (width, height) of the output."""
    w, h = size
    out = np.zeros((h, w), np.int32)
    for k, poly in enumerate(polygons):
        p = np.round(np.asarray(poly, np.float64) * scale).astype(np.int32).reshape(-1, 1, 2)
        if len(p) >= 3:
            cv2.fillPoly(out, [p], k + 1)
    return out


def polygon_iou_matrix(a: Sequence, b: Sequence, page_size: tuple[int, int], grid: int = 8) -> np.ndarray:
    """IoU of every polygon of ``a`` with every one of ``b`` (rasterised at 1/``grid`` of the page)."""
    w, h = page_size
    size = (int(np.ceil(w / grid)) + 1, int(np.ceil(h / grid)) + 1)
    s = 1.0 / grid
    ma = [_mask(p, size, s) for p in a]
    mb = [_mask(p, size, s) for p in b]
    out = np.zeros((len(a), len(b)))
    for i, x in enumerate(ma):
        for j, y in enumerate(mb):
            inter = np.count_nonzero(x & y)
            if inter:
                out[i, j] = inter / np.count_nonzero(x | y)
    return out


def _mask(poly, size, s) -> np.ndarray:
    m = np.zeros((size[1], size[0]), np.uint8)
    p = np.round(np.asarray(poly, np.float64) * s).astype(np.int32).reshape(-1, 1, 2)
    if len(p) >= 3:
        cv2.fillPoly(m, [p], 1)
    return m.astype(bool)
