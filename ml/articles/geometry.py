"""Small geometry helpers: exact outline of a union of axis-parallel rectangles, polygon rasterisation."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from formats.articles.partition import rects_outline


def rects_union_polygon(rects: Sequence[Sequence[float]]) -> list[list[int]]:
    """Outer outline (clockwise in image coordinates, no collinear points) of a union of rectangles
    ``(x0, y0, x1, y1)`` on whole pixels; the one implementation is ``formats.articles.partition``'s."""
    whole = [tuple(int(v) for v in r[:4]) for r in rects]
    return [[int(x), int(y)] for x, y in rects_outline(whole)]


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
