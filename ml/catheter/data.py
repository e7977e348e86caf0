"""Samples (one photo + its platform annotation) and loaders; conversion to the working resolution.

A platform work item is a rotation series; its annotation holds one ``shots`` entry per image. Training
works on single shots, so a series becomes one ``Sample`` per shot (``samples_from_series``). A sample made
from an operator's correction has no pixel mask: its defect masks are rasterised from the polygons (or the
boxes when there is no polygon).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import cv2
import numpy as np

from formats import catheter
from formats.common import AnnotationError, AssetDims  # noqa: F401  (AnnotationError: raised to callers)
from ml.catheter import DEFECT_TYPES

_UNBOUNDED = 10**9  # no image size known: check the structure, not the bounds


@dataclass
class Sample:
    image: np.ndarray                         # H x W x 3 uint8, RGB
    annotation: dict[str, Any]                # {"verdict", "shots": [{"defects": [...]}]} with one shot
    mask: np.ndarray | None = None            # H x W instance mask (i = i-th defect), optional
    meta: dict[str, Any] = field(default_factory=dict)   # id, series, shot, setup ...

    def __post_init__(self):
        validate_annotation(self.annotation, sizes=[(self.image.shape[1], self.image.shape[0])])
        if self.image.ndim == 2:
            self.image = np.repeat(self.image[..., None], 3, axis=2)
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(f"image must be HxWx3 uint8, got {self.image.shape} {self.image.dtype}")

    @property
    def defects(self) -> list[dict[str, Any]]:
        return self.annotation["shots"][0]["defects"]

    @property
    def is_defect(self) -> bool:
        return bool(self.defects)

    @property
    def labels(self) -> np.ndarray:
        """Image-level multi-label vector over DEFECT_TYPES."""
        y = np.zeros(len(DEFECT_TYPES), np.float32)
        for d in self.defects:
            y[DEFECT_TYPES.index(d["type"])] = 1.0
        return y

    def type_masks(self) -> np.ndarray:
        """(4, H, W) uint8 {0, 1}: one mask per defect type."""
        h, w = self.image.shape[:2]
        out = np.zeros((len(DEFECT_TYPES), h, w), np.uint8)
        for i, d in enumerate(self.defects):
            t = DEFECT_TYPES.index(d["type"])
            if self.mask is not None:
                out[t] |= (self.mask == i + 1).astype(np.uint8)
            elif d.get("polygon") and len(d["polygon"]) >= 3:
                cv2.fillPoly(out[t], [np.asarray(d["polygon"], np.int32).reshape(-1, 1, 2)], 1)
                cv2.polylines(out[t], [np.asarray(d["polygon"], np.int32).reshape(-1, 1, 2)], True, 1)
            else:
                x0, y0, x1, y1 = (int(round(v)) for v in d["box"])
                out[t, max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = 1
        return out


def validate_annotation(ann: dict[str, Any], n_shots: int | None = None,
                        sizes: list[tuple[int, int]] | None = None) -> None:
    """The platform's own catheter validator (``formats.catheter``): raises ``AnnotationError`` naming
    each problem's path. ``sizes`` ((width, height) per shot) also checks the geometry against the images."""
    if sizes is not None:
        dims = [AssetDims(w, h) for w, h in sizes]
    else:
        shots = ann.get("shots") if isinstance(ann, dict) else None
        n = n_shots if n_shots is not None else len(shots) if isinstance(shots, list) else 0
        dims = [AssetDims(_UNBOUNDED, _UNBOUNDED)] * n
    catheter.validate(ann, dims)


def samples_from_series(images: list[np.ndarray], annotation: dict[str, Any], meta: dict[str, Any] | None = None) -> list[Sample]:
    """One Sample per shot of a work item (a series of photos with one platform annotation)."""
    validate_annotation(annotation, sizes=[(img.shape[1], img.shape[0]) for img in images])
    out = []
    for k, (img, shot) in enumerate(zip(images, annotation["shots"])):
        defects = shot.get("defects", [])
        ann = {"verdict": "defect" if defects else "ok", "shots": [{"defects": defects}]}
        out.append(Sample(image=img, annotation=ann, meta={**(meta or {}), "shot": k}))
    return out


def sample_from_shot(shot, meta: dict[str, Any] | None = None) -> Sample:
    """A Sample from a ``synth.Shot`` (keeps its exact instance mask)."""
    return Sample(image=shot.image, annotation=shot.annotation, mask=shot.instances,
                  meta={"setup": shot.setup, **(meta or {})})


def read_image(path: str | Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def load_dir(root: str | Path, limit: int | None = None) -> list[Sample]:
    """Samples of a directory written by ``synth.write_dataset`` (manifest.jsonl + images + masks)."""
    root = Path(root)
    manifest = root / "manifest.jsonl"
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} not found: is {root} a dataset written by `python -m ml.catheter synth`?")
    out = []
    for line in manifest.read_text().splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        mask = cv2.imread(str(root / rec["mask"]), cv2.IMREAD_UNCHANGED) if rec.get("mask") else None
        meta = {k: rec[k] for k in ("id", "series", "shot", "setup") if k in rec}
        out.append(Sample(image=read_image(root / rec["image"]), annotation=rec["annotation"], mask=mask, meta=meta))
        if limit and len(out) >= limit:
            break
    return out


def synth_samples(seed: int, n: int, cfg=None) -> list[Sample]:
    """``n`` shots generated in memory (same content as ``write_dataset(out, n, seed, cfg)``)."""
    from ml.catheter.synth import SynthConfig, generate_series

    cfg = cfg or SynthConfig()
    out: list[Sample] = []
    balloon = 0
    while len(out) < n:
        for k, shot in enumerate(generate_series(seed, balloon, cfg)):
            if len(out) < n:
                out.append(sample_from_shot(shot, {"id": f"s{seed}_b{balloon:05d}_k{k}",
                                                   "series": f"s{seed}_b{balloon:05d}", "shot": k}))
        balloon += 1
    return out


# -------------------------------------------------------------------------------- working resolution
def resize_image(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[0] == size and image.shape[1] == size:
        return image
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def resize_masks(masks: np.ndarray, size: int) -> np.ndarray:
    """(T, H, W) {0,1} -> (T, size, size) {0,1}; a thin line keeps at least one pixel (any coverage >= 0.15)."""
    out = np.zeros((masks.shape[0], size, size), np.uint8)
    for t in range(masks.shape[0]):
        if masks[t].any():
            cov = cv2.resize(masks[t].astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
            out[t] = cov >= 0.15
    return out


@dataclass
class Prepared:
    """Samples at the working resolution, packed for fast batching (masks as bit planes)."""
    images: np.ndarray      # N x S x S x 3 uint8
    maskbits: np.ndarray    # N x S x S uint8, bit t = type t
    labels: np.ndarray      # N x 4 float32
    meta: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.images)

    def masks(self, i: int) -> np.ndarray:
        return ((self.maskbits[i][None] >> np.arange(len(DEFECT_TYPES), dtype=np.uint8)[:, None, None]) & 1).astype(np.uint8)


def prepare(samples: Iterable[Sample], size: int) -> Prepared:
    samples = list(samples)
    n = len(samples)
    images = np.zeros((n, size, size, 3), np.uint8)
    bits = np.zeros((n, size, size), np.uint8)
    labels = np.zeros((n, len(DEFECT_TYPES)), np.float32)
    for i, s in enumerate(samples):
        images[i] = resize_image(s.image, size)
        m = resize_masks(s.type_masks(), size)
        for t in range(len(DEFECT_TYPES)):
            bits[i] |= (m[t] << t).astype(np.uint8)
        labels[i] = s.labels
    return Prepared(images, bits, labels, [dict(s.meta) for s in samples])
