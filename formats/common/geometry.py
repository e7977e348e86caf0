"""Plain-Python geometry the formats need (no numpy: the web process imports this)."""
from __future__ import annotations

from collections.abc import Sequence

Point = Sequence[float]


def polygon_area(points: Sequence[Point]) -> float:
    """Shoelace area of a simple polygon (absolute value, any orientation)."""
    n = len(points)
    return 0.5 * abs(sum(points[k][0] * points[(k + 1) % n][1] - points[(k + 1) % n][0] * points[k][1]
                         for k in range(n)))


def bounds(points: Sequence[Point]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the points."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def box_polygon(box: Sequence[float]) -> list[list[float]]:
    """The four corners of [x0, y0, x1, y1], clockwise from the top left."""
    x0, y0, x1, y1 = box
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def apply_homography(h: Sequence[Sequence[float]], x: float, y: float) -> tuple[float, float]:
    """(x, y) mapped by the 3×3 projective matrix ``h``."""
    w = h[2][0] * x + h[2][1] * y + h[2][2]
    return ((h[0][0] * x + h[0][1] * y + h[0][2]) / w, (h[1][0] * x + h[1][1] * y + h[1][2]) / w)
