"""From probability maps to straight cut segments and article polygons, each with a confidence.

Works at the working resolution; all tolerances are fractions of the page width, so the same settings fit
every preset. Cuts are horizontal or vertical (deskewed newspaper pages).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.articles.config import PostConfig


@dataclass
class Segment:
    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def vertical(self) -> bool:
        return abs(self.x1 - self.x0) < abs(self.y1 - self.y0)

    @property
    def length(self) -> float:
        return float(np.hypot(self.x1 - self.x0, self.y1 - self.y0))

    def to_json(self, sx: float = 1.0, sy: float = 1.0) -> dict:
        return {"x0": round(self.x0 * sx, 1), "y0": round(self.y0 * sy, 1), "x1": round(self.x1 * sx, 1),
                "y1": round(self.y1 * sy, 1), "score": round(float(self.score), 4)}


def _segments_one_axis(prob: np.ndarray, mask: np.ndarray, vertical: bool, min_len: int) -> list[Segment]:
    p, m = (prob, mask) if vertical else (prob.T, mask.T)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(3, min_len) | 1))  # odd: no shift
    opened = cv2.morphologyEx(m, cv2.MORPH_OPEN, k)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if h < min_len:
            continue
        ys, xs = np.nonzero(lab[y:y + h, x:x + w] == i)
        wts = p[y + ys, x + xs]
        cx = float(np.sum(wts * (x + xs)) / max(1e-6, wts.sum()))
        ci = int(round(cx))
        band = p[y:y + h, max(0, ci - 1):ci + 2]
        score = float(band.max(1).mean())
        y0, y1 = float(y), float(y + h - 1)
        seg = Segment(cx, y0, cx, y1, score) if vertical else Segment(y0, cx, y1, cx, score)
        out.append(seg)
    return out


def _merge_collinear(segs: list[Segment], vertical: bool, pos_tol: float, gap: float) -> list[Segment]:
    key = (lambda s: (s.x0, s.y0, s.y1)) if vertical else (lambda s: (s.y0, s.x0, s.x1))
    items = sorted([list(key(s)) + [s.score, s.length] for s in segs], key=lambda t: (t[1]))
    merged: list[list[float]] = []
    for it in items:
        for mt in merged:
            if abs(mt[0] - it[0]) <= pos_tol and it[1] <= mt[2] + gap and it[2] >= mt[1] - gap:
                tot = mt[4] + it[4]
                mt[0] = (mt[0] * mt[4] + it[0] * it[4]) / tot
                mt[3] = (mt[3] * mt[4] + it[3] * it[4]) / tot
                mt[1], mt[2], mt[4] = min(mt[1], it[1]), max(mt[2], it[2]), tot
                break
        else:
            merged.append(list(it))
    if vertical:
        return [Segment(c, a, c, b, s) for c, a, b, s, _ in merged]
    return [Segment(a, c, b, c, s) for c, a, b, s, _ in merged]


def _snap(vs: list[Segment], hs: list[Segment], d: float) -> set[tuple[int, str]]:
    """Move endpoints that stop short of (or overshoot) a perpendicular cut onto it (T and L junctions).
    Returns the snapped endpoints as (id(segment), end)."""
    fixed: set[tuple[int, str]] = set()
    for v in vs:
        for end in ("y0", "y1"):
            y = getattr(v, end)
            best = None
            for h in hs:
                if h.x0 - d <= v.x0 <= h.x1 + d and abs(h.y0 - y) <= d:
                    if best is None or abs(h.y0 - y) < abs(best.y0 - y):
                        best = h
            if best is not None:
                setattr(v, end, best.y0)
                fixed.add((id(v), end))
                if v.x0 < best.x0 - 0.5:
                    best.x0 = v.x0
                    fixed.add((id(best), "x0"))
                if v.x0 > best.x1 + 0.5:
                    best.x1 = v.x0
                    fixed.add((id(best), "x1"))
    for h in hs:
        for end in ("x0", "x1"):
            x = getattr(h, end)
            best = None
            for v in vs:
                if v.y0 - d <= h.y0 <= v.y1 + d and abs(v.x0 - x) <= d:
                    if best is None or abs(v.x0 - x) < abs(best.x0 - x):
                        best = v
            if best is not None:
                setattr(h, end, best.x0)
                fixed.add((id(h), end))
    return fixed


def _sides(art: np.ndarray, s: Segment, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Article masks along both sides of a segment, over the page's full extent in its direction."""
    if s.vertical:
        w = art.shape[1]
        x = int(round(s.x0))
        return art[:, min(w - 1, max(0, x - d))], art[:, min(w - 1, max(0, x + d))]
    h = art.shape[0]
    y = int(round(s.y0))
    return art[min(h - 1, max(0, y - d)), :], art[min(h - 1, max(0, y + d)), :]


def _separates_articles(art: np.ndarray, s: Segment, d: int) -> bool:
    """A cut lies between two articles: article area on both sides along most of it."""
    a, b = _sides(art, s, d)
    lo, hi = (s.y0, s.y1) if s.vertical else (s.x0, s.x1)
    idx = np.linspace(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo), 12).round().astype(int)
    idx = idx[(idx >= 0) & (idx < len(a))]
    return len(idx) > 0 and float(np.mean(a[idx] & b[idx])) >= 0.5


def _fit_free_ends(art: np.ndarray, segs: list[Segment], fixed: set, d: int, gap: float, ext: float,
                   max_move: float) -> None:
    """Endpoints not on a junction end where the article area beside the cut ends (plus half a gap): the
    probability map alone tends to run into the margins or stop early."""
    for s in segs:
        a, b = _sides(art, s, d)
        side = a | b
        pos = np.nonzero(side)[0]
        if len(pos) == 0:
            continue
        lo_e, hi_e = ("y0", "y1") if s.vertical else ("x0", "x1")
        lo, hi = getattr(s, lo_e), getattr(s, hi_e)
        mid = 0.5 * (lo + hi)
        groups = np.split(pos, np.nonzero(np.diff(pos) > gap)[0] + 1)
        g = min(groups, key=lambda g: 0 if g[0] <= mid <= g[-1] else min(abs(g[0] - mid), abs(g[-1] - mid)))
        if (id(s), lo_e) not in fixed:
            setattr(s, lo_e, float(np.clip(g[0] - ext, max(0.0, lo - max_move), lo + max_move)))
        if (id(s), hi_e) not in fixed:
            setattr(s, hi_e, float(np.clip(g[-1] + ext, hi - max_move, min(len(side) - 1, hi + max_move))))


def extract_cuts(cut_prob: np.ndarray, tau: float, post: PostConfig | None = None,
                 region_prob: np.ndarray | None = None) -> list[Segment]:
    """Straight cut segments (working-resolution pixels) from a cut probability map at threshold ``tau``.

    With the region probabilities (3, H, W), segments that do not have article area on both sides are dropped
    and free endpoints (not on a junction) are fitted to the extent of the article area beside the cut."""
    post = post or PostConfig()
    h, w = cut_prob.shape
    mask = (cut_prob > tau).astype(np.uint8)
    if not mask.any():
        return []
    min_len = max(3, int(round(post.min_len * w)))
    pos_tol, gap, snap = 0.01 * w, post.merge_gap * w, post.snap * w
    vs = _merge_collinear(_segments_one_axis(cut_prob, mask, True, min_len), True, pos_tol, gap)
    hs = _merge_collinear(_segments_one_axis(cut_prob, mask, False, min_len), False, pos_tol, gap)
    if region_prob is not None:
        art = (region_prob[1] + region_prob[2]) > 0.5
        d = max(2, int(round(0.02 * w)))
        vs = [v for v in vs if _separates_articles(art, v, d)]
        hs = [x for x in hs if _separates_articles(art, x, d)]
    fixed = _snap(vs, hs, snap)
    if region_prob is not None:
        _fit_free_ends(art, vs + hs, fixed, d, 0.012 * w, 0.012 * w, snap)
    return [s for s in vs + hs if s.length >= min_len]


def article_polygons(region_prob: np.ndarray, cuts: list[Segment], post: PostConfig | None = None,
                     wall: int = 1) -> list[tuple[list[list[float]], float]]:
    """Article polygons (working pixels) with scores: the article area (body + headline probability > 0.5),
    split by the cut segments, one polygon per connected piece."""
    post = post or PostConfig()
    h, w = region_prob.shape[1:]
    art = region_prob[1] + region_prob[2]
    mask = (art > 0.5).astype(np.uint8)
    for s in cuts:
        cv2.line(mask, (int(round(s.x0)), int(round(s.y0))), (int(round(s.x1)), int(round(s.y1))), 0,
                 thickness=2 * wall + 1)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    min_area = post.min_article_area * h * w
    out = []
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_area:
            continue
        comp = (lab == i).astype(np.uint8)
        comp = cv2.morphologyEx(comp, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
        contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            continue
        c = max(contours, key=cv2.contourArea)
        approx = cv2.approxPolyDP(c, 0.006 * w, True).reshape(-1, 2).astype(np.float64)
        if len(approx) < 3:
            continue
        # the contour runs through pixel centres: grow by half a pixel so areas match the filled mask
        approx += 0.5
        score = float(art[lab == i].mean())
        out.append(([[float(x), float(y)] for x, y in approx], score))
    out.sort(key=lambda t: (min(p[1] for p in t[0]) // (0.05 * h), min(p[0] for p in t[0])))
    return out
