"""The augmentation policy, explicit and physics-aware.

Allowed: horizontal and vertical flips, 180-degree rotation, small rotations (at most ``MAX_SMALL_ROTATION``
degrees), photometric changes (brightness, contrast, gamma, noise, blur). Forbidden: 90- and 270-degree
rotations and transposes: they turn an axial scratch (along the balloon axis, the dangerous kind) into a
radial one and the horizontal balloon into a vertical one. Every geometric op goes through ``_rotate``
/``_flip``, which refuse any angle that is not within ``MAX_SMALL_ROTATION`` of 0 or 180 degrees, and every
applied op is recorded so a test can audit it.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ALLOWED_OPS = ("hflip", "vflip", "rot180", "small_rotation", "brightness", "contrast", "gamma", "noise", "blur")
FORBIDDEN_OPS = ("rot90", "rot270", "transpose", "transverse")
MAX_SMALL_ROTATION = 15.0   # degrees; far from 90 so an axial scratch stays axial


class ForbiddenAugmentation(ValueError):
    """A geometric transform that would change the meaning of the labels (e.g. a 90-degree rotation)."""


def check_angle(angle_deg: float, max_small: float = MAX_SMALL_ROTATION) -> None:
    a = angle_deg % 180.0
    if min(a, 180.0 - a) > max_small + 1e-9:
        raise ForbiddenAugmentation(f"rotation by {angle_deg:.1f} degrees is forbidden: only 180 degrees "
                                    f"and small rotations up to {max_small} degrees keep axial scratches axial")


@dataclass
class AugmentationPolicy:
    hflip: float = 0.5
    vflip: float = 0.5
    rot180: float = 0.5
    small_rotation_deg: float = 8.0
    small_rotation_p: float = 0.5
    brightness: float = 0.12
    contrast: float = 0.25
    gamma: float = 0.25
    noise_std: float = 0.02
    blur_p: float = 0.15

    def __post_init__(self):
        if self.small_rotation_deg > MAX_SMALL_ROTATION:
            raise ForbiddenAugmentation(f"small_rotation_deg={self.small_rotation_deg} exceeds {MAX_SMALL_ROTATION}: "
                                        "large rotations approach 90 degrees and swap axial and radial scratches")

    @property
    def ops(self) -> tuple[str, ...]:
        return ALLOWED_OPS

    def __call__(self, image: np.ndarray, masks: np.ndarray, rng: np.random.Generator):
        """image H x W x 3 uint8, masks T x H x W uint8 -> (image, masks, applied ops [(name, value)])."""
        applied: list[tuple[str, float]] = []
        img, m = image, masks
        if rng.random() < self.hflip:
            img, m = _flip(img, m, 1)
            applied.append(("hflip", 1.0))
        if rng.random() < self.vflip:
            img, m = _flip(img, m, 0)
            applied.append(("vflip", 1.0))
        angle = 0.0
        if rng.random() < self.rot180:
            angle += 180.0
            applied.append(("rot180", 180.0))
        if self.small_rotation_deg > 0 and rng.random() < self.small_rotation_p:
            small = float(rng.uniform(-self.small_rotation_deg, self.small_rotation_deg))
            angle += small
            applied.append(("small_rotation", small))
        if angle:
            img, m = _rotate(img, m, angle, self.small_rotation_deg)
        f = img.astype(np.float32) / 255.0
        if self.brightness:
            b = float(rng.uniform(-self.brightness, self.brightness))
            f = f + b
            applied.append(("brightness", b))
        if self.contrast:
            c = float(np.exp(rng.uniform(-self.contrast, self.contrast)))
            f = f.mean() + (f - f.mean()) * c
            applied.append(("contrast", c))
        if self.gamma:
            g = float(np.exp(rng.uniform(-self.gamma, self.gamma)))
            f = np.clip(f, 0, 1) ** g
            applied.append(("gamma", g))
        if self.blur_p and rng.random() < self.blur_p:
            s = float(rng.uniform(0.3, 0.8))
            f = cv2.GaussianBlur(f, (0, 0), s)
            applied.append(("blur", s))
        if self.noise_std:
            s = float(rng.uniform(0, self.noise_std))
            f = f + rng.normal(0, s, f.shape).astype(np.float32)
            applied.append(("noise", s))
        out = np.clip(f * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return out, m, applied


def _flip(img: np.ndarray, masks: np.ndarray, axis: int):
    """axis 1: left-right, axis 0: up-down (image axes). Both keep the balloon axis horizontal."""
    return np.ascontiguousarray(np.flip(img, axis)), np.ascontiguousarray(np.flip(masks, axis + 1))


def _rotate(img: np.ndarray, masks: np.ndarray, angle_deg: float, max_small: float):
    check_angle(angle_deg, max_small)
    h, w = img.shape[:2]
    a = angle_deg % 360.0
    if abs(a - 180.0) < 1e-9:
        return np.ascontiguousarray(img[::-1, ::-1]), np.ascontiguousarray(masks[:, ::-1, ::-1])
    mat = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), angle_deg, 1.0)
    out = cv2.warpAffine(img, mat, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mo = np.zeros_like(masks)
    for t in range(masks.shape[0]):
        if masks[t].any():
            warped = cv2.warpAffine(masks[t].astype(np.float32), mat, (w, h), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT)
            mo[t] = warped >= 0.35
    return out, mo
