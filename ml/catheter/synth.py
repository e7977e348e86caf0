"""Deterministic synthetic balloon-catheter photos with pixel-exact defect ground truth.

A balloon is a transparent cylinder (body) with conical tapers onto a thin shaft, lying horizontally in
the image (its axis is the image x axis). It is photographed in front of a background under one of four
optical set-ups (high reflections, low defect visibility, strong artifacts, good set-up). Defects live on
the balloon surface in balloon coordinates (axial position ``x``, angle ``theta`` around the axis); a shot
of the balloon turned by ``phi`` sees a defect at apparent angle ``alpha = theta + phi``: it projects to
``y = cy + R sin(alpha)``, is foreshortened by ``cos(alpha)`` and is visible only while ``cos(alpha)`` is
large enough (it leaves the view on the far side). A rotation series is several shots of one balloon with
increasing ``phi``; its defects move consistently from shot to shot.

Ground truth per shot: an instance mask (0 = background, i = i-th defect of the shot's annotation) and the
platform annotation ``{"verdict", "shots": [{"defects": [{"type", "box", "polygon"}]}]}`` with boxes
``[x0, y0, x1, y1]`` in pixels, ``x1``/``y1`` exclusive (the tight bounding box of the instance mask).
Everything is a pure function of ``(seed, index)``.

Difficulty (``SynthConfig.difficulty`` and its ``Realism`` parameters): ``easy`` is the original generator,
pixel for pixel. ``realistic`` and ``hard`` shrink defects and their contrast relative to the balloon, put some
defects in or beside the specular highlight (where the sensor saturates), add defocus and motion blur,
stronger sensor noise, JPEG, uneven lighting and harmless look-alikes (specks, lint and water rings behind the
transparent balloon, point glints on it) that are *not* annotated. Their random draws come from streams of
their own, so switching an effect off leaves every other pixel as it was. ``label_noise`` (training data only)
leaves a share of small defects out of the annotation, as a hurried operator would.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from formats.common.geometry import polygon_area
from ml.catheter import DEFECT_TYPES, SETUPS
from ml.catheter.config import Realism, SynthConfig

VISIBLE_COS = 0.3          # a surface point is seen (and annotated) while cos(alpha) exceeds this
MASK_ALPHA = 0.25          # rendered coverage above which a pixel belongs to the defect mask
SS = 4                     # supersampling factor for drawing defects
SMALL_DEFECT_AREA = 80     # label noise drops only defects with a mask smaller than this (px at 512x512)


@dataclass
class Balloon:
    cy: float
    radius: float
    x_body: tuple[float, float]
    cone: float
    shaft: float
    setup: str
    look: dict[str, float]
    defects: list[dict[str, Any]] = field(default_factory=list)  # balloon-frame defect specs


@dataclass
class Shot:
    image: np.ndarray                  # H x W x 3 uint8 (RGB)
    instances: np.ndarray              # H x W uint8: 0 background, i = defects[i-1]
    defects: list[dict[str, Any]]      # [{"type", "box", "polygon"}] in pixels
    setup: str
    phase: float
    contrasts: list[float] = field(default_factory=list)  # per annotated defect: mean |change| over its mask,
                                                          # grey levels (0-255) after the set-up's compression
    unlabelled: int = 0                # visible defects left out of the annotation by label noise
    axis_y: float | None = None        # the balloon's axis (image y, px) and radius (px): with the phase, where
    radius: float | None = None        # a surface point appears (y = axis_y + radius * sin(theta + phase))

    @property
    def contrast(self) -> float | None:
        """The most visible annotated defect's contrast (grey levels); None for an OK shot."""
        return max(self.contrasts) if self.contrasts else None

    @property
    def annotation(self) -> dict[str, Any]:
        return {"verdict": "defect" if self.defects else "ok", "shots": [{"defects": self.defects}]}


# ----------------------------------------------------------------------------------------- balloon
def _look(rng: np.random.Generator, setup: str) -> dict[str, float]:
    """Photometric parameters of an optical set-up."""
    look = dict(highlight=rng.uniform(0.2, 0.35), hl_width=rng.uniform(0.05, 0.09), second=rng.uniform(0.05, 0.12),
                noise=rng.uniform(0.006, 0.012), blur=0.0, defect_gain=rng.uniform(0.85, 1.1),
                compress=1.0, dust=0, banding=0.0, vignette=0.0, glints=0, fibers=0)
    if setup == "high_reflections":
        look.update(highlight=rng.uniform(0.55, 0.9), hl_width=rng.uniform(0.1, 0.18), second=rng.uniform(0.2, 0.4),
                    glints=int(rng.integers(2, 5)), defect_gain=rng.uniform(0.7, 0.95))
    elif setup == "low_visibility":
        look.update(compress=rng.uniform(0.55, 0.7), blur=rng.uniform(0.5, 0.9), defect_gain=rng.uniform(0.7, 0.9),
                    highlight=rng.uniform(0.1, 0.25))
    elif setup == "strong_artifacts":
        look.update(noise=rng.uniform(0.018, 0.03), dust=int(rng.integers(5, 14)), banding=rng.uniform(0.01, 0.03),
                    vignette=rng.uniform(0.15, 0.35), fibers=int(rng.integers(1, 3)),
                    defect_gain=rng.uniform(0.85, 1.05))
    return look


def make_balloon(rng: np.random.Generator, size: int, setup: str, kinds: list[str],
                 realism: Realism | None = None) -> Balloon:
    s = size
    b = Balloon(cy=rng.uniform(0.44, 0.56) * s, radius=rng.uniform(0.17, 0.24) * s,
                x_body=(rng.uniform(0.12, 0.2) * s, rng.uniform(0.8, 0.88) * s), cone=rng.uniform(0.06, 0.1) * s,
                shaft=rng.uniform(0.025, 0.04) * s, setup=setup, look=_look(rng, setup))
    k = s / 512.0
    xa, xb = b.x_body
    for kind in kinds:
        d: dict[str, Any] = {"type": kind, "theta": rng.uniform(-math.pi, math.pi),
                             "contrast": 0.0, "seed": int(rng.integers(0, 2**31 - 1))}
        if kind == "axial_scratch":
            length = rng.uniform(0.07, 0.3) * s
            x0 = rng.uniform(xa + 4 * k, max(xa + 5 * k, xb - length - 4 * k))
            d.update(x0=x0, x1=min(xb - 2 * k, x0 + length), width=rng.uniform(1.3, 3.0) * k,
                     slope=rng.uniform(-0.15, 0.15), contrast=rng.uniform(0.16, 0.35))
        elif kind == "radial_scratch":
            d.update(x0=rng.uniform(xa + 8 * k, xb - 8 * k), span=rng.uniform(0.35, 1.1),
                     width=rng.uniform(1.3, 3.0) * k,
                     slant=rng.uniform(-6, 6) * k, contrast=rng.uniform(0.16, 0.35))
        elif kind == "inclusion":
            d.update(x0=rng.uniform(xa + 6 * k, xb - 6 * k), r=rng.uniform(1.8, 4.5) * k,
                     contrast=rng.uniform(0.3, 0.55))
        else:  # bubble
            d.update(x0=rng.uniform(xa + 12 * k, xb - 12 * k), r=rng.uniform(4.0, 10.0) * k,
                     contrast=rng.uniform(0.15, 0.3))
        _scale_defect(d, realism or Realism())
        b.defects.append(d)
    return b


def _scale_defect(d: dict[str, Any], r: Realism) -> None:
    """Shrink a drawn defect (about its start) and its contrast; a no-op at scale 1 (``easy``)."""
    if r.size_scale != 1.0:
        for key in ("width", "r"):
            if key in d:
                d[key] *= r.size_scale
        if "x1" in d:
            d["x1"] = d["x0"] + (d["x1"] - d["x0"]) * r.size_scale
        if "span" in d:
            d["span"] *= r.size_scale
    d["contrast"] *= r.contrast_scale


def _radius_profile(b: Balloon, xs: np.ndarray) -> np.ndarray:
    xa, xb = b.x_body
    r = np.full_like(xs, b.radius, dtype=np.float32)
    left = xs < xa
    right = xs > xb
    r[left] = np.interp(xs[left], [xa - b.cone, xa], [b.shaft, b.radius]).astype(np.float32)
    r[right] = np.interp(xs[right], [xb, xb + b.cone], [b.radius, b.shaft]).astype(np.float32)
    return np.maximum(r, b.shaft)


def _smooth_field(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    small = max(4, int(size / sigma))
    f = rng.standard_normal((small, small)).astype(np.float32)
    f = cv2.resize(f, (size, size), interpolation=cv2.INTER_CUBIC)
    return f / (f.std() + 1e-6)


def _render_background(rng: np.random.Generator, b: Balloon, size: int) -> np.ndarray:
    base = rng.uniform(0.3, 0.55)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    gx, gy = rng.uniform(-0.12, 0.12, size=2)
    bg = base + gx * (xx - 0.5) + gy * (yy - 0.5) + 0.035 * _smooth_field(rng, size, size / 6)
    return bg.astype(np.float32)


def _render_tube(rng: np.random.Generator, b: Balloon, bg: np.ndarray, phase: float) -> tuple[np.ndarray, np.ndarray]:
    """Transparent balloon over the background: refraction, wall lines, highlights, faint folds."""
    size = bg.shape[0]
    xs = np.arange(size, dtype=np.float32)
    r = _radius_profile(b, xs)[None, :]
    yy = np.arange(size, dtype=np.float32)[:, None]
    v = (yy - b.cy) / r                      # -1..1 across the tube
    inside = np.abs(v) < 1.0
    # refraction: the background seen through the tube is squeezed towards the axis
    map_x = np.broadcast_to(xs[None, :], bg.shape).astype(np.float32)
    map_y = (b.cy + (yy - b.cy) * 0.55 + np.zeros_like(map_x)).astype(np.float32)
    refr = cv2.remap(bg, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    img = np.where(inside, refr * 0.9 + 0.04, bg)
    av = np.abs(v)
    # walls seen edge-on: dark lines with a thin bright inner rim (Fresnel)
    wall = np.exp(-((av - 0.985) / 0.03) ** 2)
    rim = np.exp(-((av - 0.93) / 0.025) ** 2)
    img = img * (1 - 0.45 * wall) + 0.08 * rim * inside
    L = b.look
    # specular highlights: a main band and a secondary band, modulated slowly along the axis
    mod = 0.75 + 0.25 * np.cos(xs / size * rng.uniform(2, 7) + rng.uniform(0, 6.28))[None, :]
    h1, h2 = rng.uniform(-0.6, -0.3), rng.uniform(0.2, 0.5)
    h1 = L.get("hl_at", h1)   # difficulty: the band placed on (or beside) a defect
    img = img + inside * mod * (L["highlight"] * np.exp(-((v - h1) / L["hl_width"]) ** 2)
                                + L["second"] * np.exp(-((v - h2) / (1.6 * L["hl_width"])) ** 2))
    # faint, wide axial folds that turn with the balloon (distractors for axial scratches)
    for _ in range(int(rng.integers(1, 4))):
        th, amp, wid = rng.uniform(-math.pi, math.pi) + phase, rng.uniform(-0.03, 0.03), rng.uniform(3, 6)
        if math.cos(th) > 0.2:
            yf = b.cy + b.radius * math.sin(th)
            img = img + inside * amp * np.exp(-((yy - yf) / wid) ** 2)
    # glints: elongated bright reflections of the lamp on the tube
    for _ in range(int(L["glints"])):
        gx, gy = rng.uniform(b.x_body[0], b.x_body[1]), b.cy + b.radius * rng.uniform(-0.8, 0.8)
        sx, sy = rng.uniform(15, 40) * size / 512, rng.uniform(2, 5) * size / 512
        img = img + rng.uniform(0.3, 0.6) * np.exp(-((xs[None, :] - gx) / sx) ** 2 - ((yy - gy) / sy) ** 2)
    return img.astype(np.float32), inside


def _local_alpha(draw, size: int, bbox: tuple[float, float, float, float]) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of a shape drawn (by ``draw(canvas, to_px)``) at SS x supersampling."""
    x0, y0, x1, y1 = (int(math.floor(bbox[0])) - 3, int(math.floor(bbox[1])) - 3,
                      int(math.ceil(bbox[2])) + 3, int(math.ceil(bbox[3])) + 3)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(size, x1), min(size, y1)
    alpha = np.zeros((size, size), np.float32)
    if x1 <= x0 or y1 <= y0:
        return alpha
    canvas = np.zeros(((y1 - y0) * SS, (x1 - x0) * SS), np.uint8)

    def to_px(px, py):
        return np.stack([(np.asarray(px) - x0) * SS, (np.asarray(py) - y0) * SS], -1).round().astype(np.int32)

    draw(canvas, to_px)
    small = cv2.resize(canvas.astype(np.float32) / 255.0, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    alpha[y0:y1, x0:x1] = small
    return alpha


def _project(b: Balloon, d: dict[str, Any], phase: float,
             size: int) -> list[tuple[str, np.ndarray, np.ndarray | None, float]]:
    """Alpha maps of a defect in one shot: [(mode, alpha, extra, visibility)], empty when out of view."""
    k = size / 512.0
    R, cy = b.radius, b.cy
    prng = np.random.default_rng(d["seed"])
    kind = d["type"]
    if kind == "axial_scratch":
        xs = np.linspace(d["x0"], d["x1"], max(8, int((d["x1"] - d["x0"]) / 3)))
        th = d["theta"] + phase + d["slope"] * (xs - d["x0"]) / R
        c = np.cos(th)
        ok = c > VISIBLE_COS
        if ok.sum() < 3:
            return []
        ys = cy + R * np.sin(th) + 0.6 * k * np.sin(xs / (7 * k) + d["seed"] % 7)
        xs, ys, vis = xs[ok], ys[ok], float(c[ok].mean())
        w = max(1.0, d["width"] * (0.5 + 0.5 * vis))

        def draw(cv, to_px):
            cv2.polylines(cv, [to_px(xs, ys)], False, 255, max(1, int(round(w * SS))), cv2.LINE_AA)

        a = _local_alpha(draw, size, (xs.min() - w, ys.min() - w, xs.max() + w, ys.max() + w))
        return [("add", a, None, vis)]
    if kind == "radial_scratch":
        th = np.linspace(d["theta"], d["theta"] + d["span"], 40) + phase
        c = np.cos(th)
        ok = c > VISIBLE_COS
        if ok.sum() < 3:
            return []
        t = np.linspace(0, 1, 40)
        xs = d["x0"] + d["slant"] * t + 0.5 * k * np.sin(t * 9 + d["seed"] % 5)
        ys = cy + R * np.sin(th)
        xs, ys, vis = xs[ok], ys[ok], float(c[ok].mean())
        if ys.max() - ys.min() < 4 * k:
            return []
        w = max(1.0, d["width"])

        def draw(cv, to_px):
            cv2.polylines(cv, [to_px(xs, ys)], False, 255, max(1, int(round(w * SS))), cv2.LINE_AA)

        a = _local_alpha(draw, size, (xs.min() - w, ys.min() - w, xs.max() + w, ys.max() + w))
        return [("add", a, None, vis)]
    alpha_ = d["theta"] + phase
    c = math.cos(alpha_)
    if c <= VISIBLE_COS:
        return []
    x, y = d["x0"], cy + R * math.sin(alpha_)
    rr = d["r"]
    if kind == "inclusion":
        n = 9
        ang = np.sort(prng.uniform(0, 2 * math.pi, n))
        rad = rr * prng.uniform(0.6, 1.0, n)
        px, py = x + rad * np.cos(ang), y + rad * np.sin(ang) * max(0.35, c)

        def draw(cv, to_px):
            cv2.fillPoly(cv, [to_px(px, py)], 255, cv2.LINE_AA)

        a = _local_alpha(draw, size, (px.min(), py.min(), px.max(), py.max()))
        return [("dark", a, None, c)]
    # bubble: a bright thin ring around a slightly darker interior
    ry = rr * max(0.35, c)
    thick = max(1.0, 1.3 * k)

    def ring(cv, to_px):
        cen = tuple(int(v) for v in to_px(x, y))
        cv2.ellipse(cv, cen, (int(rr * SS), int(ry * SS)), 0, 0, 360, 255, max(1, int(thick * SS)), cv2.LINE_AA)

    def disk(cv, to_px):
        cen = tuple(int(v) for v in to_px(x, y))
        cv2.ellipse(cv, cen, (int(rr * SS), int(ry * SS)), 0, 0, 360, 255, -1, cv2.LINE_AA)

    box = (x - rr - thick, y - ry - thick, x + rr + thick, y + ry + thick)
    return [("bubble", _local_alpha(ring, size, box), _local_alpha(disk, size, box), c)]


def _circle(x: float, y: float, r: float, thickness: int):
    """A ``_local_alpha`` drawing: a disc (thickness -1) or a ring."""
    def draw(cv, to_px):
        cv2.circle(cv, tuple(int(v) for v in to_px(x, y)), int(r * SS), 255, thickness, cv2.LINE_AA)
    return draw


def _polyline(pts: np.ndarray, width: float):
    def draw(cv, to_px):
        cv2.polylines(cv, [to_px(pts[:, 0], pts[:, 1])], False, 255, max(1, int(width * SS)), cv2.LINE_AA)
    return draw


def _decoys_behind(rng: np.random.Generator, b: Balloon, bg: np.ndarray, n: int) -> np.ndarray:
    """Harmless look-alikes on the background, mostly where it is seen through the balloon: dark specks
    (like inclusions), lint (like scratches) and water rings (like bubbles). The tube's refraction stretches
    them like everything behind it; they are never annotated."""
    size = bg.shape[0]
    k = size / 512.0
    layer = np.zeros_like(bg)
    for _ in range(n):
        kind = ("speck", "lint", "ring")[int(rng.integers(0, 3))]
        x = rng.uniform(b.x_body[0], b.x_body[1])
        # the tube shows the background band cy +- 0.55 R (refraction), so most decoys sit in it
        band = 0.55 * b.radius if rng.random() < 0.75 else 0.45 * size
        y = b.cy + rng.uniform(-band, band)
        if kind == "speck":
            r = rng.uniform(1.2, 3.0) * k
            a = _local_alpha(_circle(x, y, r, -1), size, (x - r, y - r, x + r, y + r))
            layer -= rng.uniform(0.1, 0.3) * a
        elif kind == "lint":
            n_pts = 12
            pts = np.c_[x + np.cumsum(rng.normal(0, 2.5 * k, n_pts)) + np.linspace(0, rng.uniform(-25, 25) * k, n_pts),
                        y + np.cumsum(rng.normal(0, 2.5 * k, n_pts))]
            w = rng.uniform(0.8, 1.8) * k
            a = _local_alpha(_polyline(pts, w), size,
                             (pts[:, 0].min() - w, pts[:, 1].min() - w, pts[:, 0].max() + w, pts[:, 1].max() + w))
            layer += rng.choice([-1.0, 1.0]) * rng.uniform(0.08, 0.2) * a
        else:
            r = rng.uniform(3.0, 8.0) * k
            a = _local_alpha(_circle(x, y, r, max(1, int(1.2 * k * SS))), size,
                             (x - r - 2, y - r - 2, x + r + 2, y + r + 2))
            layer += rng.uniform(0.08, 0.2) * a
    sigma = rng.uniform(0.4, 0.9) * k   # behind the balloon: a little out of focus
    return bg + cv2.GaussianBlur(layer, (0, 0), sigma)


def _glints_on(rng: np.random.Generator, b: Balloon, img: np.ndarray, inside: np.ndarray, n: int) -> np.ndarray:
    """Point reflections of the lamp on the balloon surface: tiny bright spots, harmless."""
    size = img.shape[0]
    k = size / 512.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for _ in range(n):
        x, y = rng.uniform(b.x_body[0], b.x_body[1]), b.cy + b.radius * rng.uniform(-0.85, 0.85)
        sg = rng.uniform(1.0, 2.2) * k
        img = img + inside * rng.uniform(0.15, 0.4) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sg * sg))
    return img


def _optics(scene_rng: np.random.Generator, shot_rng: np.random.Generator, img: np.ndarray, r: Realism) -> np.ndarray:
    """Uneven lighting (shared by a series), then this shot's defocus and motion blur."""
    size = img.shape[0]
    k = size / 512.0
    if r.lighting > 0:
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
        gx, gy = scene_rng.normal(0, 1, 2)
        field_ = 0.5 * _smooth_field(scene_rng, size, size / 3) + gx * xx + gy * yy
        img = img * (1 + r.lighting * np.clip(field_, -2.5, 2.5))
    if r.focus_blur > 0:
        sigma = shot_rng.uniform(0.2, 1.0) * r.focus_blur * k
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    if r.motion_blur > 0:
        length = shot_rng.uniform(0.0, 1.0) * r.motion_blur * k
        if length >= 1.0:
            n = int(math.ceil(length)) | 1
            kern = np.zeros((n, n), np.float32)
            ang = shot_rng.uniform(0, math.pi)
            c = n // 2
            dx, dy = math.cos(ang) * length / 2, math.sin(ang) * length / 2
            cv2.line(kern, (int(round(c - dx)), int(round(c - dy))), (int(round(c + dx)), int(round(c + dy))), 1.0, 1,
                     cv2.LINE_AA)
            img = cv2.filter2D(img, -1, kern / kern.sum(), borderType=cv2.BORDER_REFLECT)
    return img


def _jpeg(rng: np.random.Generator, rgb: np.ndarray, min_quality: int) -> np.ndarray:
    q = int(rng.integers(min_quality, 96))
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _finish(rng: np.random.Generator, noise_rng: np.random.Generator, b: Balloon, img: np.ndarray,
            inside: np.ndarray, realism: Realism | None = None, scene_seed: int = 0) -> np.ndarray:
    """Set-up artifacts, blur, contrast compression, noise, tint; float HxW -> uint8 HxWx3."""
    L, size = b.look, img.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for _ in range(int(L["dust"])):   # out-of-focus dust on the optics: soft blobs anywhere
        cx, cy = rng.uniform(0, size, 2)
        sg = rng.uniform(4, 10) * size / 512
        img = img + rng.uniform(-0.1, 0.06) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sg * sg))
    for _ in range(int(L["fibers"])):  # a fibre lying on the background (never on the balloon)
        pts = np.cumsum(rng.normal(0, 6, (30, 2)), 0) + rng.uniform(0, size, 2)
        canvas = np.zeros((size, size), np.uint8)
        cv2.polylines(canvas, [pts.astype(np.int32)], False, 255, 1, cv2.LINE_AA)
        canvas = cv2.GaussianBlur(canvas, (0, 0), 0.8)
        img = img - 0.15 * canvas.astype(np.float32) / 255.0 * (~inside)
    if L["banding"]:
        img = img + L["banding"] * np.sin(yy / rng.uniform(3, 9) + rng.uniform(0, 6.28))
    if L["vignette"]:
        rr = ((xx - size / 2) ** 2 + (yy - size / 2) ** 2) / (size / 2) ** 2
        img = img * (1 - L["vignette"] * rr / 2)
    if L["blur"] > 0:
        img = cv2.GaussianBlur(img, (0, 0), L["blur"] * size / 512)
    if L["compress"] != 1.0:
        m = float(img.mean())
        img = m + (img - m) * L["compress"]
    r = realism or Realism()
    if r.lighting > 0 or r.focus_blur > 0 or r.motion_blur > 0:
        img = _optics(np.random.default_rng([scene_seed, 0x11]), noise_rng, img, r)
    img = img + (noise_rng.normal(0, L["noise"], img.shape) * r.noise_scale).astype(np.float32)
    tint = np.array([1.0, rng.uniform(0.97, 1.02), rng.uniform(0.92, 1.0)], np.float32)
    rgb = np.clip(img[..., None] * tint * 255.0, 0, 255).round().astype(np.uint8)
    return _jpeg(noise_rng, rgb, r.jpeg_quality) if r.jpeg_quality else rgb


def render_shot(b: Balloon, phase: float, size: int, rng: np.random.Generator, scene_seed: int = 0,
                realism: Realism | None = None) -> Shot:
    """One photo of balloon ``b`` turned by ``phase``. The scene (background, lamp, optics) depends only on
    ``scene_seed``, so all shots of a series share it; ``rng`` draws the sensor noise of this shot."""
    r = realism or Realism()
    scene = np.random.default_rng([scene_seed, 7])
    bg = _render_background(scene, b, size)
    decoy_rng = np.random.default_rng([scene_seed, 0xDEC0])
    n_decoys = int(decoy_rng.poisson(r.decoys)) if r.decoys > 0 else 0
    n_behind = int(decoy_rng.binomial(n_decoys, 0.75)) if n_decoys else 0
    if n_behind:
        bg = _decoys_behind(decoy_rng, b, bg, n_behind)
    img, inside = _render_tube(scene, b, bg, phase)
    if n_decoys - n_behind:
        img = _glints_on(decoy_rng, b, img, inside, n_decoys - n_behind)
    instances = np.zeros((size, size), np.uint8)
    defects: list[dict[str, Any]] = []
    contrasts: list[float] = []
    gain = b.look["defect_gain"]
    for d in b.defects:
        parts = _project(b, d, phase, size)
        if not parts:
            continue
        mode, a, extra, vis = parts[0]
        c = d["contrast"] * gain * (0.6 + 0.4 * vis)
        before = img
        if mode == "add":
            img = img + c * a
            mask = a > MASK_ALPHA
        elif mode == "dark":
            img = img * (1 - c * a)
            mask = a > MASK_ALPHA
        else:
            img = img * (1 - 0.25 * c * extra) + c * a
            mask = extra > MASK_ALPHA
        mask &= instances == 0  # first defect keeps overlapping pixels
        if mask.sum() < 3:
            continue
        instances[mask] = len(defects) + 1
        defects.append(_defect_record(d["type"], mask))
        contrasts.append(float(np.abs(img - before)[mask].mean() * b.look["compress"] * 255.0))
    image = _finish(scene, rng, b, img, inside, r, scene_seed)
    return Shot(image=image, instances=instances, defects=defects, setup=b.setup, phase=float(phase),
                contrasts=contrasts, axis_y=float(b.cy), radius=float(b.radius))


def _drop_small_labels(shot: Shot, rng: np.random.Generator, share: float) -> Shot:
    """Label noise: each small annotated defect is left out with probability ``share`` (pixels unchanged)."""
    size = shot.instances.shape[0]
    small = SMALL_DEFECT_AREA * (size / 512.0) ** 2
    keep, inst = [], np.zeros_like(shot.instances)
    for i, d in enumerate(shot.defects, start=1):
        m = shot.instances == i
        if m.sum() < small and rng.random() < share:
            continue
        keep.append(i)
        inst[m] = len(keep)
    if len(keep) == len(shot.defects):
        return shot
    return Shot(image=shot.image, instances=inst, defects=[shot.defects[i - 1] for i in keep], setup=shot.setup,
                phase=shot.phase, contrasts=[shot.contrasts[i - 1] for i in keep],
                unlabelled=shot.unlabelled + len(shot.defects) - len(keep), axis_y=shot.axis_y, radius=shot.radius)


def _defect_record(kind: str, mask: np.ndarray) -> dict[str, Any]:
    ys, xs = np.nonzero(mask)
    box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    biggest = max(contours, key=cv2.contourArea)
    poly = [[int(x), int(y)] for x, y in cv2.approxPolyDP(biggest, 1.0, True).reshape(-1, 2)]
    if len(poly) < 3 or polygon_area(poly) <= 0:  # a hairline: a polyline, not a polygon without an area
        return {"type": kind, "box": box, "polyline": poly} if len(poly) >= 2 else {"type": kind, "box": box}
    return {"type": kind, "box": box, "polygon": poly}


# ------------------------------------------------------------------------------------------ public API
def _setup_for(rng: np.random.Generator, cfg: SynthConfig) -> str:
    w = np.asarray(cfg.setup_weights, np.float64)
    return SETUPS[int(rng.choice(len(SETUPS), p=w / w.sum()))]


def generate_series(seed: int, index: int = 0, cfg: SynthConfig | None = None, *, n_shots: int | None = None,
                    setup: str | None = None, defective: bool | None = None,
                    defect_types: list[str] | None = None) -> list[Shot]:
    """One balloon photographed ``n_shots`` times while turning about its axis; a pure function of its args.

    ``defective`` forces (True/False) the balloon to carry defects (default: drawn with ``cfg.defect_rate``);
    ``defect_types`` forces the kinds. A single shot (``n_shots == 1``) of a defective balloon always shows
    its first defect; in a series the defects come into view and leave it as the balloon turns.
    """
    cfg = cfg or SynthConfig()
    n_shots = n_shots or cfg.series_len
    rng = np.random.default_rng([seed, index, 0xCA7])
    setup = setup or _setup_for(rng, cfg)
    if setup not in SETUPS:
        raise ValueError(f"unknown optical set-up {setup!r}; expected one of {SETUPS}")
    has = bool(rng.random() < cfg.defect_rate) if defective is None else defective
    n_def = int(rng.integers(1, cfg.max_defects + 1))
    kinds = [DEFECT_TYPES[int(i)] for i in rng.integers(0, len(DEFECT_TYPES), n_def)]
    if defect_types:
        bad = [k for k in defect_types if k not in DEFECT_TYPES]
        if bad:
            raise ValueError(f"unknown defect type(s) {bad}; expected some of {DEFECT_TYPES}")
        kinds = list(defect_types)
    realism = cfg.realism()
    b = make_balloon(rng, cfg.size, setup, kinds if has else [], realism)
    phi0 = rng.uniform(-math.pi, math.pi)
    if n_shots == 1 and b.defects:
        # make sure a single photo of a defective balloon shows its first defect
        first = b.defects[0]
        span = first.get("span", 0.0)
        phi0 = rng.uniform(-0.9, 0.9) - first["theta"] - span / 2
        hl_rng = np.random.default_rng([seed, index, 0x5BEC])
        if realism.near_highlight > 0 and hl_rng.random() < realism.near_highlight:
            # the main highlight band over the defect, or just beside it (v = (y - cy) / R across the tube)
            v = math.sin(first["theta"] + span / 2 + phi0)
            b.look["hl_at"] = v + hl_rng.uniform(-1.2, 1.2) * b.look["hl_width"]
    scene_seed = int(rng.integers(0, 2**31 - 1))
    step = 2 * math.pi / n_shots if n_shots >= 4 else math.pi / 4
    shots = []
    for k in range(n_shots):
        shot_rng = np.random.default_rng([seed, index, 100 + k])
        shot = render_shot(b, phi0 + k * step, cfg.size, shot_rng, scene_seed=scene_seed, realism=realism)
        if cfg.label_noise > 0 and shot.defects:
            shot = _drop_small_labels(shot, np.random.default_rng([seed, index, 200 + k]), cfg.label_noise)
        shots.append(shot)
    return shots


def generate_sample(seed: int, index: int = 0, cfg: SynthConfig | None = None, **kw) -> Shot:
    """One photo (a series of length 1)."""
    return generate_series(seed, index, cfg, n_shots=1, **kw)[0]


def write_dataset(out: str | Path, n: int, seed: int, cfg: SynthConfig | None = None, progress=None) -> Path:
    """Write ``n`` shots (``ceil(n / series_len)`` balloons) to ``out``: images/*.png, masks/*.png
    (instance masks) and manifest.jsonl (one line per shot: id, paths, series, shot, setup, annotation)."""
    cfg = cfg or SynthConfig()
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    lines = []
    written, balloon = 0, 0
    while written < n:
        shots = generate_series(seed, balloon, cfg)
        for k, shot in enumerate(shots):
            if written >= n:
                break
            sid = f"s{seed}_b{balloon:05d}_k{k}"
            cv2.imwrite(str(out / "images" / f"{sid}.png"), cv2.cvtColor(shot.image, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_PNG_COMPRESSION, 1])
            cv2.imwrite(str(out / "masks" / f"{sid}.png"), shot.instances, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            lines.append(json.dumps({"id": sid, "image": f"images/{sid}.png", "mask": f"masks/{sid}.png",
                                     "series": f"s{seed}_b{balloon:05d}", "shot": k, "setup": shot.setup,
                                     "phase": round(shot.phase, 6), "annotation": shot.annotation,
                                     "contrast": None if shot.contrast is None else round(shot.contrast, 3),
                                     "unlabelled": shot.unlabelled}))
            written += 1
            if progress:
                progress(written, n)
        balloon += 1
    (out / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    (out / "synth_config.json").write_text(json.dumps({"seed": seed, "n": n, **cfg.__dict__,
                                                       "realism": cfg.realism().__dict__}, default=list))
    return out
