"""Small RGBA layers of a prediction for the item page: the defect map (coloured by the strongest type,
opaque where likely) and the saliency (guided backprop, heat-coloured). Both keep the shot's aspect ratio
at a small size; the page stretches them over the image."""
from __future__ import annotations

import cv2
import numpy as np

from ml.catheter import DEFECT_TYPES

MAX_SIDE = 256
# One colour per defect type, in DEFECT_TYPES order (RGB).
TYPE_COLOURS = np.array([(230, 50, 50), (255, 150, 0), (40, 130, 255), (170, 70, 220)], np.uint8)
assert len(TYPE_COLOURS) == len(DEFECT_TYPES)


def layer_size(image_wh: tuple[int, int], max_side: int = MAX_SIDE) -> tuple[int, int]:
    w, h = image_wh
    scale = min(1.0, max_side / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def defect_layer(defect_map: np.ndarray, image_wh: tuple[int, int], floor: float = 0.05) -> np.ndarray:
    """(T, h, w) per-type probabilities -> H x W x 4 uint8; transparent below ``floor``."""
    lw, lh = layer_size(image_wh)
    probs = cv2.resize(np.ascontiguousarray(defect_map.transpose(1, 2, 0), dtype=np.float32), (lw, lh),
                       interpolation=cv2.INTER_LINEAR).reshape(lh, lw, -1)
    top = probs.argmax(axis=2)
    p = np.clip(probs.max(axis=2), 0.0, 1.0)
    out = np.zeros((lh, lw, 4), np.uint8)
    out[..., :3] = TYPE_COLOURS[top]
    out[..., 3] = np.where(p >= floor, np.round(p * 230), 0).astype(np.uint8)
    return out


def saliency_layer(saliency: np.ndarray, image_wh: tuple[int, int]) -> np.ndarray:
    """S x S saliency magnitudes -> H x W x 4 uint8 heat map, normalised to its 99.5th percentile."""
    lw, lh = layer_size(image_wh)
    s = cv2.resize(saliency.astype(np.float32), (lw, lh), interpolation=cv2.INTER_AREA)
    s = cv2.GaussianBlur(s, (0, 0), 1.0)
    s = np.clip(s / (float(np.percentile(s, 99.5)) + 1e-12), 0.0, 1.0)
    heat = cv2.applyColorMap(np.round(s * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1]
    out = np.empty((lh, lw, 4), np.uint8)
    out[..., :3] = heat
    out[..., 3] = np.round(s * 200).astype(np.uint8)
    return out
