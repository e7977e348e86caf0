"""Operator point pairs and the homography they define, in plain Python (the web process imports this).

``check_point_pairs`` validates what an operator sent (at least four pairs, finite numbers, each point on
its image, not collinear) and raises ``AnnotationError`` naming each bad field; ``homography_from_pairs``
is the normalised direct linear transform (Hartley's normalisation, least squares over all pairs with
h33 = 1), exact for four pairs. Coordinates are original-image pixels (pixel-edge convention), original ->
photo, like the annotation's ``homography``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from formats.common.checker import LIMITS, AssetDims, Checker
from formats.common.geometry import apply_homography

MIN_PAIRS = 4
MAX_PAIRS = 64          # an operator places a handful; more is a client bug, not a better fit
# Smallest spread across the points' main direction, as a share of their spread along it: below it the
# points lie on one line (or all in one spot) and cannot fix a projective map.
MIN_SPREAD = 0.02

Pair = Sequence[Sequence[float]]


def _spread(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(major, minor) standard deviation of the points along their principal axes."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points) / n
    syy = sum((p[1] - my) ** 2 for p in points) / n
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points) / n
    mean, diff = (sxx + syy) / 2, math.sqrt(((sxx - syy) / 2) ** 2 + sxy ** 2)
    return math.sqrt(max(mean + diff, 0.0)), math.sqrt(max(mean - diff, 0.0))


def _three_collinear(points: list[tuple[float, float]], tolerance: float) -> bool:
    """With exactly four points, a homography needs no three of them on one line."""
    for skip in range(4):
        a, b, c = [p for i, p in enumerate(points) if i != skip]
        area2 = abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
        longest = max(math.dist(a, b), math.dist(b, c), math.dist(a, c))
        if longest == 0 or area2 / longest < tolerance * longest:
            return True
    return False


def check_point_pairs(value: Any, original: AssetDims, photo: AssetDims,
                      path: str = "$.point_pairs") -> list[list[list[float]]]:
    """The pairs as ``[[[xo, yo], [xp, yp]], ...]`` floats, or ``AnnotationError`` naming every bad field."""
    c = Checker()
    rows = c.lst(value, path, min(MAX_PAIRS, LIMITS["shapes_per_image"]))
    c.raise_if_any()
    pairs = []
    for i, pair in enumerate(rows):
        at = f"{path}[{i}]"
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            c.fail(at, "must be [[x_original, y_original], [x_photo, y_photo]]")
            continue
        a = c.point(pair[0], original, f"{at}[0]")
        b = c.point(pair[1], photo, f"{at}[1]")
        if a and b:
            pairs.append([list(a), list(b)])
    c.raise_if_any()
    if len(pairs) < MIN_PAIRS:
        c.fail(path, f"a homography needs at least {MIN_PAIRS} point pairs ({len(pairs)} given)")
        c.raise_if_any()
    for side, name in ((0, "original"), (1, "photo")):
        points = [(p[side][0], p[side][1]) for p in pairs]
        major, minor = _spread(points)
        if major == 0 or minor < MIN_SPREAD * major or (len(points) == 4 and _three_collinear(points, MIN_SPREAD)):
            c.fail(path, f"the {name} points lie (nearly) on one line: place them around the page, "
                         "e.g. near its four corners")
    c.raise_if_any()
    if homography_from_pairs(pairs) is None:
        c.fail(path, "the point pairs are degenerate: no projective map fits them")
    c.raise_if_any()
    return pairs


def _normaliser(points: list[tuple[float, float]]) -> list[list[float]]:
    """Hartley: centre on the mean, scale to a mean distance of sqrt(2)."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    d = sum(math.hypot(p[0] - mx, p[1] - my) for p in points) / n or 1.0
    s = math.sqrt(2) / d
    return [[s, 0.0, -s * mx], [0.0, s, -s * my], [0.0, 0.0, 1.0]]


def _matmul(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    return [[sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def _inverse_normaliser(t: list[list[float]]) -> list[list[float]]:
    s = t[0][0]
    return [[1 / s, 0.0, -t[0][2] / s], [0.0, 1 / s, -t[1][2] / s], [0.0, 0.0, 1.0]]


def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None for a (nearly) singular system."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    scale = max((abs(v) for row in a for v in row), default=0.0) or 1.0
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-10 * scale:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for k in range(col, n + 1):
                m[r][k] -= f * m[col][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def homography_from_pairs(pairs: Sequence[Pair]) -> list[list[float]] | None:
    """The original -> photo homography of the pairs (least squares over all, normalised DLT with h33 = 1);
    None when the pairs do not determine one."""
    src = [(float(p[0][0]), float(p[0][1])) for p in pairs]
    dst = [(float(p[1][0]), float(p[1][1])) for p in pairs]
    if len(src) < MIN_PAIRS:
        return None
    ts, td = _normaliser(src), _normaliser(dst)
    ns = [apply_homography(ts, x, y) for x, y in src]
    nd = [apply_homography(td, x, y) for x, y in dst]
    # two equations per pair in the eight unknowns h00..h21; normal equations A^T A h = A^T b
    ata = [[0.0] * 8 for _ in range(8)]
    atb = [0.0] * 8
    for (x, y), (u, v) in zip(ns, nd):
        for row, rhs in (([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y], u),
                         ([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y], v)):
            for i in range(8):
                atb[i] += row[i] * rhs
                for j in range(8):
                    ata[i][j] += row[i] * row[j]
    h = _solve(ata, atb)
    if h is None or not all(math.isfinite(v) for v in h):
        return None
    hn = [h[0:3], h[3:6], [h[6], h[7], 1.0]]
    out = _matmul(_matmul(_inverse_normaliser(td), hn), ts)
    if abs(out[2][2]) < 1e-12:
        return None
    out = [[v / out[2][2] for v in row] for row in out]
    det = (out[0][0] * (out[1][1] * out[2][2] - out[1][2] * out[2][1])
           - out[0][1] * (out[1][0] * out[2][2] - out[1][2] * out[2][0])
           + out[0][2] * (out[1][0] * out[2][1] - out[1][1] * out[2][0]))
    return out if abs(det) > 1e-12 and all(math.isfinite(v) for row in out for v in row) else None


def pair_residuals(h: Sequence[Sequence[float]], pairs: Sequence[Pair]) -> list[float]:
    """Distance (photo pixels) between where ``h`` puts each original point and the operator's photo point."""
    out = []
    for (xo, yo), (xp, yp) in pairs:
        x, y = apply_homography(h, xo, yo)
        out.append(math.hypot(x - xp, y - yp))
    return out


__all__ = ["MIN_PAIRS", "MAX_PAIRS", "check_point_pairs", "homography_from_pairs", "pair_residuals"]
