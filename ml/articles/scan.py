"""Scan degrader: a clean rendered page -> what a flatbed scan of an old newspaper page looks like, with the
ground truth carried over exactly.

Geometry (``ScanMapping``) works in page units (fractions of the page width), so one mapping serves the
300 dpi ground truth and a working copy of any width alike. It is ``scan = rotate(warp(page))``:

* ``warp``: near the gutter the paper bends into the fold, and the flatbed sees that band foreshortened: a
  point at distance ``d < band`` from the gutter edge moves ``amount * (1 - d / band) ** 2`` away from it.
  The warp moves x only and depends on x only, so a horizontal line stays horizontal and a vertical line
  stays vertical: axis-parallel cuts and the rectilinear article outlines map *exactly* onto straight
  segments and polygons through their mapped end points.
* ``rotate``: the page lies skewed on the glass by ``angle`` degrees about its centre (an affine map, so the
  mapped segments stay exact).

Pixel coordinates are pixel-edge coordinates (pixel (i, j) covers [j, j+1) x [i, i+1)), as in the ground truth.
Photometric effects, none of which moves anything: bleed-through of the reverse page (its own layout,
mirrored, blurred), yellowed paper with mottled stains, uneven illumination and the gutter's shadow, blur,
sensor noise and JPEG. A ``strength`` of 0 is the clean page; 1 is the issue's "realistic" scan (skew up to
1.5 degrees); 1.4 is a heavy one. Everything is a pure function of ``(page seed, strength)``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

LEVELS = {"clean": 0.0, "light": 0.5, "realistic": 1.0, "heavy": 1.4}
PAPER = 244.0          # the renderer's paper grey
LID = 232.0            # what the scanner shows where the skewed page leaves the frame


@dataclass(frozen=True)
class ScanMapping:
    """Page -> scan geometry in page units; ``forward`` / ``inverse`` take pixel points of a frame ``width`` wide."""
    angle: float = 0.0          # degrees, counter-clockwise on the image (y down)
    warp: float = 0.0           # largest shift at the gutter edge, fraction of the width
    band: float = 0.12          # width of the bent band, fraction of the width
    gutter: str = "left"        # which edge is the fold
    aspect: float = 1.4145      # height / width of the page

    def _warp_u(self, u: np.ndarray) -> np.ndarray:
        if self.warp == 0:
            return u
        d = u if self.gutter == "left" else 1.0 - u
        shift = self.warp * np.clip(1.0 - d / self.band, 0.0, None) ** 2
        return u + shift if self.gutter == "left" else u - shift

    def _unwarp_u(self, u: np.ndarray) -> np.ndarray:
        if self.warp == 0:
            return u
        grid = np.linspace(-0.1, 1.1, 24001)
        return np.interp(u, self._warp_u(grid), grid)   # monotone (warp < band / 2), so invertible

    def _rot(self, sign: float) -> np.ndarray:
        a = math.radians(self.angle) * sign
        return np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])

    def forward(self, pts, width: float) -> np.ndarray:
        p = np.asarray(pts, np.float64).reshape(-1, 2) / width
        p = np.c_[self._warp_u(p[:, 0]), p[:, 1]]
        c = np.array([0.5, 0.5 * self.aspect])
        return ((p - c) @ self._rot(1.0).T + c) * width

    def inverse(self, pts, width: float) -> np.ndarray:
        c = np.array([0.5, 0.5 * self.aspect])
        p = (np.asarray(pts, np.float64).reshape(-1, 2) / width - c) @ self._rot(-1.0).T + c
        return np.c_[self._unwarp_u(p[:, 0]), p[:, 1]] * width

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScanParams:
    mapping: ScanMapping
    bleed: float = 0.0          # reverse page ink seen through, share of full ink
    bleed_seed: int = 0
    yellow: float = 0.0         # 0 white paper .. 1 strongly yellowed
    light: float = 0.0          # amplitude of uneven illumination
    shadow: float = 0.0         # darkening at the gutter edge (share of the paper level)
    blur: float = 0.0           # Gaussian sigma, pixels of a 640 px wide copy
    noise: float = 0.0          # grey levels
    jpeg: int = 0               # quality; 0: none
    strength: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mapping"] = self.mapping.to_dict()
        return d


def draw_params(seed: int, strength: float, aspect: float = 1.4145) -> ScanParams:
    """The degradation of one page: ranges grow with ``strength`` (0: none)."""
    s = max(0.0, float(strength))
    if s == 0:
        return ScanParams(ScanMapping(aspect=aspect))
    rng = np.random.default_rng([int(seed) % (2**31), 0x5CA7])
    mapping = ScanMapping(angle=float(rng.uniform(-1.5, 1.5) * s), warp=float(rng.uniform(0.3, 1.0) * 0.006 * s),
                          band=float(rng.uniform(0.08, 0.14)), gutter=("left", "right")[int(rng.integers(0, 2))],
                          aspect=aspect)
    return ScanParams(mapping=mapping, bleed=float(rng.uniform(0.3, 1.0) * 0.12 * s),
                      bleed_seed=int(rng.integers(0, 2**31 - 1)), yellow=float(min(1.0, rng.uniform(0.3, 1.0) * s)),
                      light=float(rng.uniform(0.3, 1.0) * 0.10 * s), shadow=float(rng.uniform(0.3, 1.0) * 0.25 * s),
                      blur=float(rng.uniform(0.4, 1.0) * 0.9 * s), noise=float(rng.uniform(0.5, 1.0) * 6.0 * s),
                      jpeg=int(round(95 - rng.uniform(0.5, 1.0) * 45 * min(1.0, s))), strength=s)


def _smooth(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    f = rng.standard_normal((cells, max(2, int(round(cells * w / h))))).astype(np.float32)
    f = cv2.resize(f, (w, h), interpolation=cv2.INTER_CUBIC)
    return f / (f.std() + 1e-6)


def degrade_image(image: np.ndarray, params: ScanParams, reverse: np.ndarray | None = None,
                  rgb: bool = False) -> np.ndarray:
    """Degrade a clean grey page (uint8, any width) with ``params``; ``reverse`` is the clean render of the
    sheet's other side at the same size (bleed-through). Returns grey uint8 (RGB with ``rgb``)."""
    img = image.astype(np.float32)
    h, w = img.shape
    k = w / 640.0
    rng = np.random.default_rng([params.bleed_seed, 0xB1])
    if params.bleed > 0 and reverse is not None:
        ink = (PAPER - reverse.astype(np.float32)[:, ::-1]) / (PAPER - 18.0)
        ink = cv2.GaussianBlur(np.clip(ink, 0, 1), (0, 0), max(0.5, 1.6 * k))
        img = img - params.bleed * ink * (PAPER - 18.0)
    m = params.mapping
    if m.angle or m.warp:
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
        src = m.inverse(np.c_[xs.ravel() + 0.5, ys.ravel() + 0.5], w)
        mx = (src[:, 0] - 0.5).reshape(h, w).astype(np.float32)
        my = (src[:, 1] - 0.5).reshape(h, w).astype(np.float32)
        img = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=LID)
    if params.light > 0 or params.shadow > 0:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        u = xx / w if m.gutter == "left" else 1.0 - xx / w
        field = 1.0 + params.light * np.clip(_smooth(rng, h, w, 3), -2.5, 2.5)
        field *= 1.0 - params.shadow * np.exp(-u / 0.03)
        img = img * field
    if params.blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), max(0.3, params.blur * k))
    if params.noise > 0:
        img = img + rng.normal(0, params.noise, img.shape).astype(np.float32)
    # yellowed paper: a warm tint of the paper (ink stays dark) with mottled stains
    tone = np.clip(img / PAPER, 0, 1.1)
    stains = 1.0 + 0.35 * _smooth(rng, h, w, 6) if params.yellow > 0 else 1.0
    y = np.clip(params.yellow * stains, 0, 1.5)[..., None] * np.array([0.0, 0.06, 0.22], np.float32)
    col = img[..., None] * (1.0 - y * tone[..., None])
    col = np.clip(col, 0, 255).round().astype(np.uint8)
    if params.jpeg:
        ok, buf = cv2.imencode(".jpg", col[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(params.jpeg)])
        col = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(col) if rgb else cv2.cvtColor(np.ascontiguousarray(col), cv2.COLOR_RGB2GRAY)


def map_annotation(annotation: dict, mapping: ScanMapping, width: float, height: float) -> dict:
    """The platform annotation (cuts, article polygons; pixels of a ``width`` x ``height`` frame) after the
    scan's geometry: exact, see the module docstring. Points are clipped to the frame."""
    def pts(p):
        q = mapping.forward(p, width)
        q[:, 0] = np.clip(q[:, 0], 0, width)
        q[:, 1] = np.clip(q[:, 1], 0, height)
        return q

    cuts = []
    for c in annotation.get("cuts", []):
        (x0, y0), (x1, y1) = pts([[c["x0"], c["y0"]], [c["x1"], c["y1"]]])
        cuts.append({"x0": round(float(x0), 2), "y0": round(float(y0), 2), "x1": round(float(x1), 2),
                     "y1": round(float(y1), 2)})
    arts = [{**a, "polygon": [[round(float(x), 2), round(float(y), 2)] for x, y in pts(a["polygon"])]}
            for a in annotation.get("articles", [])]
    return {**annotation, "cuts": cuts, "articles": arts}


def map_blocks(blocks: list[dict], mapping: ScanMapping, width: float, height: float) -> list[dict]:
    """Blocks as the axis-parallel boxes around their mapped corners (a training aid for the headline class;
    within a pixel or two of the skewed block at these angles, not exact like cuts and articles)."""
    out = []
    for b in blocks:
        x0, y0, x1, y1 = b["box"]
        q = mapping.forward([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], width)
        box = [max(0.0, q[:, 0].min()), max(0.0, q[:, 1].min()), min(width, q[:, 0].max()), min(height, q[:, 1].max())]
        out.append({**b, "box": [int(round(v)) for v in box]})
    return out
