"""Degrader: "print and photograph" simulation with the exact page -> photo mapping.

Coordinates everywhere in this package are continuous pixel-edge coordinates: pixel (row i, col j) covers
[j, j+1) x [i, i+1); a box [x0, y0, x1, y1] uses the same convention. The mapping is
``photo = H(curl(page))``: an optional smooth non-planar "page curl" displacement in page coordinates,
then a homography (perspective, rotation, framing, crop). Photometric effects (lighting, shadow, paper
texture, blur, noise, JPEG) do not move anything, so the mapping is exact.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ml.omr.config import DEGRADE_PRESETS, DegradeConfig


@dataclass
class Curl:
    """Page curl: near one side the paper lifts; points there shift towards the page centre and spread.

    Forward displacement in page coordinates: with ``u`` the normalised distance into the curled band
    (0 at its start, 1 at the page edge), ``d_normal = -amplitude * u**2`` and
    ``d_along = spread * amplitude * u**2 * (t - 0.5)`` with ``t`` the normalised position along the side.
    """
    side: str                # left | right | top | bottom
    amplitude: float         # pixels
    start: float             # share of the page (from the curled side) where the curl begins
    spread: float
    width: int
    height: int

    def _frame(self, pts: np.ndarray):
        x, y = pts[..., 0], pts[..., 1]
        W, H = float(self.width), float(self.height)
        if self.side == "right":
            n, t, span = x / W, y / H, W
        elif self.side == "left":
            n, t, span = 1 - x / W, y / H, W
        elif self.side == "bottom":
            n, t, span = y / H, x / W, H
        else:
            n, t, span = 1 - y / H, x / W, H
        u = np.clip((n - (1 - self.start)) / self.start, 0, 1)
        return u, t, span

    def displacement(self, pts: np.ndarray) -> np.ndarray:
        u, t, _ = self._frame(pts)
        d_norm = -self.amplitude * u ** 2
        d_along = self.spread * self.amplitude * u ** 2 * (t - 0.5)
        out = np.empty_like(pts, dtype=np.float64)
        if self.side in ("right", "left"):
            out[..., 0] = d_norm if self.side == "right" else -d_norm
            out[..., 1] = d_along
        else:
            out[..., 1] = d_norm if self.side == "bottom" else -d_norm
            out[..., 0] = d_along
        return out

    def forward(self, pts: np.ndarray) -> np.ndarray:
        pts = np.asarray(pts, dtype=np.float64)
        return pts + self.displacement(pts)

    def inverse(self, pts: np.ndarray, iterations: int = 10) -> np.ndarray:
        q = np.asarray(pts, dtype=np.float64)
        p = q.copy()
        for _ in range(iterations):   # contraction: |dD/dp| << 1
            p = q - self.displacement(p)
        return p

    def to_dict(self) -> dict:
        return {"side": self.side, "amplitude": self.amplitude, "start": self.start, "spread": self.spread,
                "width": self.width, "height": self.height}


@dataclass
class PhotoMapping:
    homography: np.ndarray                      # 3x3, (curled) page -> photo, pixel-edge coordinates
    page_size: tuple[int, int]                  # (W, H)
    photo_size: tuple[int, int]                 # (W, H)
    curl: Curl | None = None
    params: dict = field(default_factory=dict)  # what was drawn (for slices and debugging)

    def page_to_photo(self, pts) -> np.ndarray:
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        if self.curl is not None:
            pts = self.curl.forward(pts)
        return apply_h(self.homography, pts)

    def photo_to_page(self, pts) -> np.ndarray:
        pts = apply_h(np.linalg.inv(self.homography), np.asarray(pts, dtype=np.float64).reshape(-1, 2))
        return self.curl.inverse(pts) if self.curl is not None else pts

    def page_corners_in_photo(self) -> np.ndarray:
        W, H = self.page_size
        return self.page_to_photo(np.array([[0, 0], [W, 0], [W, H], [0, H]], dtype=np.float64))

    def visible_share(self, samples: int = 40) -> float:
        """Share of the page area that lands inside the photo frame."""
        W, H = self.page_size
        xs, ys = np.meshgrid((np.arange(samples) + 0.5) / samples * W, (np.arange(samples) + 0.5) / samples * H)
        p = self.page_to_photo(np.c_[xs.ravel(), ys.ravel()])
        inside = (p[:, 0] >= 0) & (p[:, 0] <= self.photo_size[0]) & (p[:, 1] >= 0) & (p[:, 1] <= self.photo_size[1])
        return float(inside.mean())

    def to_dict(self) -> dict:
        return {"homography": self.homography.tolist(), "page_size": list(self.page_size),
                "photo_size": list(self.photo_size), "curl": self.curl.to_dict() if self.curl else None,
                "params": self.params}

    @classmethod
    def from_dict(cls, d: dict) -> "PhotoMapping":
        curl = Curl(**d["curl"]) if d.get("curl") else None
        return cls(np.asarray(d["homography"], dtype=np.float64), tuple(d["page_size"]), tuple(d["photo_size"]),
                   curl, d.get("params", {}))


def apply_h(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    q = np.c_[pts, np.ones(len(pts))] @ np.asarray(h, dtype=np.float64).T
    return q[:, :2] / q[:, 2:3]


def _draw_geometry(rng: np.random.Generator, cfg: DegradeConfig, W: int,
                   H: int) -> tuple[np.ndarray, tuple[int, int], dict]:
    FW, FH = int(round(W * cfg.out_scale)), int(round(H * cfg.out_scale))
    page = np.array([[0, 0], [W, 0], [W, H], [0, H]], dtype=np.float64)
    # fit the page into the frame with an inset, rotate a little, then jitter each corner
    s = min(FW * (1 - 2 * cfg.inset) / W, FH * (1 - 2 * cfg.inset) / H)
    quad = (page - [W / 2, H / 2]) * s
    a = np.radians(rng.uniform(-cfg.rotate_deg, cfg.rotate_deg))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    quad = quad @ rot.T + [FW / 2, FH / 2]
    jitter = rng.uniform(-cfg.corner_jitter, cfg.corner_jitter, size=(4, 2)) * [FW, FH]
    quad = quad + jitter
    params = {"rotate_deg": float(np.degrees(a)), "max_corner_shift": float(np.abs(jitter / [FW, FH]).max())}
    if cfg.keep_inside:
        quad[:, 0] = np.clip(quad[:, 0], 0.01 * FW, 0.99 * FW)
        quad[:, 1] = np.clip(quad[:, 1], 0.01 * FH, 0.99 * FH)
    if cfg.crop > 0:
        side = int(rng.integers(4))
        share = rng.uniform(0.5, 1.0) * cfg.crop
        # shift the quad so that about `share` of the page falls out of the frame on one side
        if side == 0:
            quad[:, 1] -= quad[:, 1].min() + share * (quad[:, 1].max() - quad[:, 1].min())
        elif side == 1:
            quad[:, 1] += FH - quad[:, 1].max() + share * (quad[:, 1].max() - quad[:, 1].min())
        elif side == 2:
            quad[:, 0] -= quad[:, 0].min() + share * (quad[:, 0].max() - quad[:, 0].min())
        else:
            quad[:, 0] += FW - quad[:, 0].max() + share * (quad[:, 0].max() - quad[:, 0].min())
        params.update(crop_side=["top", "bottom", "left", "right"][side], crop_share=float(share))
    h = cv2.getPerspectiveTransform(page.astype(np.float32), quad.astype(np.float32)).astype(np.float64)
    return h, (FW, FH), params


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: int) -> np.ndarray:
    small = rng.standard_normal((max(2, shape[0] // scale), max(2, shape[1] // scale))).astype(np.float32)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def degrade(page: np.ndarray, seed: int = 0, cfg: DegradeConfig | str = "moderate") -> tuple[np.ndarray, PhotoMapping]:
    """A simulated photo of ``page`` (H x W uint8) and the exact page -> photo mapping."""
    if isinstance(cfg, str):
        cfg = DEGRADE_PRESETS[cfg]
    rng = np.random.default_rng(seed)
    H, W = page.shape[:2]
    h, (FW, FH), params = _draw_geometry(rng, cfg, W, H)
    curl = None
    if cfg.curl > 0:
        curl = Curl(side=str(rng.choice(list(cfg.curl_sides))),
                    amplitude=float(rng.uniform(0.6, 1.0) * cfg.curl), start=float(rng.uniform(0.3, 0.5)),
                    spread=float(rng.uniform(0.1, 0.3)), width=W, height=H)
        params["curl_side"] = curl.side
    mapping = PhotoMapping(h, (W, H), (FW, FH), curl, params)

    # printed page: ink is never pure black, paper has grain
    ink = 1.0 - page.astype(np.float32) / 255.0
    paper = 235.0 + rng.uniform(-10, 10)
    ink_level = rng.uniform(20, 60)
    printed = paper - ink * (paper - ink_level)
    if cfg.paper_texture > 0:
        printed += cfg.paper_texture * (0.6 * _smooth_noise(rng, (H, W), 64)
                                        + 0.4 * rng.standard_normal((H, W)).astype(np.float32) * 0.5)

    # geometry: for every photo pixel centre, where it comes from on the page
    xs, ys = np.meshgrid(np.arange(FW, dtype=np.float64) + 0.5, np.arange(FH, dtype=np.float64) + 0.5)
    src = mapping.photo_to_page(np.c_[xs.ravel(), ys.ravel()]).reshape(FH, FW, 2) - 0.5
    mx, my = src[..., 0].astype(np.float32), src[..., 1].astype(np.float32)
    photo = cv2.remap(printed, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    inside = cv2.remap(np.ones((H, W), np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=0)
    background = rng.uniform(40, 110) + 12 * _smooth_noise(rng, (FH, FW), 32)
    photo = photo + (1 - inside) * background

    # lighting gradient (linear + vignette) and a soft shadow
    if cfg.lighting > 0:
        ang = rng.uniform(0, 2 * np.pi)
        ramp = ((xs - 0.5) / FW - 0.5) * np.cos(ang) + ((ys - 0.5) / FH - 0.5) * np.sin(ang)
        ramp = (ramp - ramp.min()) / max(1e-6, np.ptp(ramp))
        vign = ((xs / FW - 0.5) ** 2 + (ys / FH - 0.5) ** 2) * 2
        photo *= (1 - rng.uniform(0.3, 1.0) * cfg.lighting * (0.7 * ramp + 0.3 * vign)).astype(np.float32)
    if cfg.shadow > 0 and rng.random() < 0.7:
        p0 = rng.uniform([0, 0], [FW, FH])
        normal = rng.standard_normal(2)
        normal /= np.linalg.norm(normal)
        dist = (xs - p0[0]) * normal[0] + (ys - p0[1]) * normal[1]
        soft = rng.uniform(0.02, 0.08) * max(FW, FH)
        mask = 1 / (1 + np.exp(-dist / soft))
        photo *= (1 - rng.uniform(0.3, 1.0) * cfg.shadow * mask).astype(np.float32)
    lo, hi = cfg.blur_sigma
    sigma = rng.uniform(lo, hi) if hi > 0 else 0.0
    if sigma > 0.05:
        photo = cv2.GaussianBlur(photo, (0, 0), sigma)
    lo, hi = cfg.noise_sigma
    if hi > 0:
        photo = photo + rng.standard_normal(photo.shape).astype(np.float32) * rng.uniform(lo, hi)
    out = np.clip(np.rint(photo), 0, 255).astype(np.uint8)
    lo, hi = cfg.jpeg_quality
    quality = int(rng.integers(lo, hi + 1))
    if quality < 100:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    params.update(blur_sigma=float(sigma), jpeg_quality=quality)
    return out, mapping
