"""Undo what a scanner does to a page before segmenting it: flatten the paper, then deskew.

* ``flatten``: the paper level is estimated per pixel (a grey closing wider than any glyph removes the ink,
  a blur smooths it) and divided out, so yellowed or stained paper, uneven light and the gutter's shadow
  become the renderer's even paper again; faint marks (bleed-through of the reverse page) are whitened.
* ``estimate_skew``: the angle whose rotation makes the ink's column profile sharpest (columns, gutters and
  rules run along the page's vertical axis), searched coarse to fine within +-3 degrees.
* ``fix_scan`` returns the flattened, deskewed page and the ``ScanMapping`` (a pure rotation) that maps
  points of the deskewed page back onto the scan: segment the fixed page, then map the cuts and polygons.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

import cv2
import numpy as np

from ml.articles.scan import PAPER, ScanMapping, map_annotation, map_blocks

if TYPE_CHECKING:
    from ml.articles.config import PostConfig
    from ml.articles.data import Sample

SKEW_WIDTH = 1024         # skew is measured on a copy this wide
MIN_SKEW = 0.05           # degrees; a smaller estimate leaves the page as it is


def flatten(gray: np.ndarray, faint: float = 40.0) -> np.ndarray:
    """Even paper at the renderer's grey; marks fainter than ``faint`` grey levels below the paper whitened."""
    h, w = gray.shape
    small_w = min(w, 256)
    s = small_w / w
    small = cv2.resize(gray, (small_w, max(8, int(round(h * s)))), interpolation=cv2.INTER_AREA)
    k = max(5, int(round(0.03 * small_w)) | 1)          # wider than a glyph, a rule or a gutter shadow's step
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    paper = cv2.GaussianBlur(paper.astype(np.float32), (0, 0), k / 2)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    out = gray.astype(np.float32) * (PAPER / np.maximum(paper, 40.0))
    out = np.where(out > PAPER - faint, PAPER, out)
    return np.clip(out, 0, 255).astype(np.uint8)


def _profile_score(ys: np.ndarray, xs: np.ndarray, wt: np.ndarray, angle: float, dither: np.ndarray) -> float:
    """Sharpness of the ink's column profile after turning the page by ``angle`` degrees: each ink pixel is
    sheared into its column bin. Columns, gutters and rules run the whole text height, so this profile is
    sharp only at the right angle (rows are not used: baselines differ from column to column, and on 24
    heavy scans the row profile was off by up to 0.55 degrees where the column profile was within 0.07).
    No image resampling (it would blur every angle but 0), and a fixed sub-pixel dither, so that angle 0
    (where every pixel falls on a bin exactly) has no edge."""
    c = xs + ys * np.tan(np.radians(angle)) + dither
    prof = np.bincount((c - c.min()).astype(np.int64), weights=wt)
    return float(np.sum(prof ** 2)) / max(1e-9, float(prof.sum()))


def estimate_skew(gray: np.ndarray, max_angle: float = 3.0) -> float:
    """The page's skew in degrees, in the convention of ``ScanMapping.angle`` (the scan is the page turned
    by it): the angle that straightens the ink's profiles."""
    h, w = gray.shape
    sw = SKEW_WIDTH       # small pages are enlarged: finer column bins resolve a hundredth of a degree better
    small = cv2.resize(gray, (sw, max(8, int(round(h * sw / w)))),
                       interpolation=cv2.INTER_AREA if w > sw else cv2.INTER_LINEAR)
    paper = float(np.percentile(small, 90))
    ink = np.clip((paper - small.astype(np.float32) - 30.0) / 60.0, 0, 1)
    ys, xs = np.nonzero(ink > 0)
    wt = ink[ys, xs].astype(np.float64)
    ys, xs = ys.astype(np.float64) - h * sw / w / 2, xs.astype(np.float64) - sw / 2
    dither = np.random.default_rng(0).random(len(ys))

    def score(a):
        return _profile_score(ys, xs, wt, a, dither)

    best = max(np.arange(-max_angle, max_angle + 1e-9, 0.2), key=score)
    for step, span in ((0.04, 0.2), (0.01, 0.04)):
        best = max(np.arange(best - span, best + span + 1e-9, step), key=score)
    return -float(best)   # the shear that straightens the page undoes the scan's turn


def deskew(gray: np.ndarray, angle: float) -> np.ndarray:
    """The page before a scan rotation of ``angle`` degrees: the inverse of ``ScanMapping(angle)`` (each output
    pixel takes the scan at ``ScanMapping.forward`` of its centre), as one affine warp."""
    h, w = gray.shape
    a = math.radians(angle)
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    c = np.array([w / 2.0, h / 2.0])
    # pixel-edge coordinates (x + 0.5) on both sides, as ScanMapping: src = rot (dst + 0.5 - c) + c - 0.5
    m = np.c_[rot, rot @ (0.5 - c) + c - 0.5].astype(np.float64)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=int(PAPER))


def fix_scan(gray: np.ndarray, flatten_paper: bool = True, deskew_page: bool = True
             ) -> tuple[np.ndarray, ScanMapping | None]:
    """(the page to segment, the mapping of its points back onto ``gray``; None when it was not turned)."""
    page = flatten(gray) if flatten_paper else gray
    if not deskew_page:
        return page, None
    angle = estimate_skew(page)
    if abs(angle) < MIN_SKEW:
        return page, None
    return deskew(page, angle), ScanMapping(angle=angle, aspect=gray.shape[0] / gray.shape[1])


def fix_sample(sample: "Sample", post: "PostConfig") -> "Sample":
    """The sample as the predictor segments it: the fixed page, its annotation carried into the fixed frame
    (a rotation is an isometry, so cut distances and article overlaps, hence every metric, are unchanged)."""
    from ml.articles.data import to_gray

    if not (post.flatten or post.deskew):
        return sample
    page, mapping = fix_scan(to_gray(sample.image), post.flatten, post.deskew)
    if mapping is None:
        return replace(sample, image=page)
    w, h = sample.size
    back = _Inverse(mapping)
    meta = dict(sample.meta)
    if meta.get("blocks"):
        meta["blocks"] = map_blocks(meta["blocks"], back, w, h)
    meta["deskew"] = mapping.angle
    return replace(sample, image=page, annotation=map_annotation(sample.annotation, back, w, h), meta=meta)


def fix_samples(samples: Sequence["Sample"], post: "PostConfig") -> list["Sample"]:
    return [fix_sample(s, post) for s in samples]


class _Inverse:
    """A mapping's inverse with the ``forward`` interface ``map_annotation`` expects."""

    def __init__(self, mapping: ScanMapping):
        self.mapping = mapping

    def forward(self, pts, width: float) -> np.ndarray:
        return self.mapping.inverse(pts, width)
