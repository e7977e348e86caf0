"""Transfer: the original's symbol boxes mapped into the photo through an alignment."""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from ml.common.metrics import box_iou
from ml.omr.align import ink_map
from ml.omr.degrade import apply_h

PointMap = Callable[[np.ndarray], np.ndarray]


def map_boxes(boxes: np.ndarray, mapping: np.ndarray | PointMap) -> np.ndarray:
    """Axis-aligned boxes of the mapped box outlines (corners and edge midpoints). ``mapping`` is a 3x3
    homography or a function mapping N x 2 points."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return boxes
    x0, y0, x1, y1 = boxes.T
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    pts = np.stack([np.c_[x0, y0], np.c_[x1, y0], np.c_[x1, y1], np.c_[x0, y1],
                    np.c_[xm, y0], np.c_[x1, ym], np.c_[xm, y1], np.c_[x0, ym]], axis=1).reshape(-1, 2)
    f = (lambda p: apply_h(mapping, p)) if isinstance(mapping, np.ndarray) else mapping
    q = f(pts).reshape(-1, 8, 2)
    return np.c_[q[..., 0].min(1), q[..., 1].min(1), q[..., 0].max(1), q[..., 1].max(1)]


def _box_fractions(ink: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    integral = cv2.integral(ink.astype(np.float32))
    H, W = ink.shape
    x0 = np.clip(np.floor(boxes[:, 0]), 0, W).astype(int)
    y0 = np.clip(np.floor(boxes[:, 1]), 0, H).astype(int)
    x1 = np.clip(np.ceil(boxes[:, 2]), 0, W).astype(int)
    y1 = np.clip(np.ceil(boxes[:, 3]), 0, H).astype(int)
    area = np.maximum(0, x1 - x0) * np.maximum(0, y1 - y0)
    s = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    return s / np.maximum(area, 1), area


def ink_share(photo: np.ndarray, boxes: np.ndarray, expected: np.ndarray | None = None, min_ink: float = 0.08,
              threshold: float = 0.25) -> tuple[float, np.ndarray]:
    """Share of boxes that land on ink. Ink = darker than the local paper by ``threshold``. A box is on ink
    when its ink fraction reaches ``min_ink`` and, given the ink fraction ``expected`` of the same box in
    the original, at least half of that (staff lines alone then do not count as landing on the symbol).
    Returns (share, per-box bool)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return float("nan"), np.zeros(0, bool)
    frac, area = _box_fractions(ink_map(photo) > threshold, boxes)
    need = np.full(len(boxes), min_ink) if expected is None else np.maximum(min_ink, 0.5 * np.asarray(expected))
    on = (area > 0) & (frac >= need)
    return float(on.mean()), on


def original_fractions(original: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Ink fraction of each box in the clean original."""
    return _box_fractions(original < 128, np.asarray(boxes, dtype=np.float64).reshape(-1, 4))[0]


def transfer(symbols: list, homography: np.ndarray, photo: np.ndarray | None = None,
             photo_size: tuple[int, int] | None = None, original: np.ndarray | None = None) -> tuple[list[dict], dict]:
    """Map symbols (``render.Symbol`` or dicts with class/bbox) into the photo. Boxes leaving the frame are
    clipped; boxes entirely outside are dropped. With the ``original`` image, landing on ink is judged
    against each box's ink in the original. Returns (symbols in photo coordinates, report)."""
    cls = [s.cls if hasattr(s, "cls") else s["class"] for s in symbols]
    boxes = np.asarray([s.bbox if hasattr(s, "bbox") else s["bbox"] for s in symbols], dtype=np.float64).reshape(-1, 4)
    mapped = map_boxes(boxes, homography)
    if photo is not None:
        photo_size = (photo.shape[1], photo.shape[0])
    expected_all = original_fractions(original, boxes) if original is not None else None
    out, keep, expected = [], [], []
    for k, (c, b) in enumerate(zip(cls, mapped)):
        if photo_size is not None:
            W, H = photo_size
            cb = [max(0.0, b[0]), max(0.0, b[1]), min(float(W), b[2]), min(float(H), b[3])]
            if cb[2] - cb[0] < 0.5 or cb[3] - cb[1] < 0.5:
                keep.append(False)
                continue
            b = cb
        keep.append(True)
        if expected_all is not None:
            expected.append(expected_all[k])
        out.append({"class": c, "bbox": [round(float(v), 3) for v in b]})
    report = {"transferred": len(out), "dropped": int(len(keep) - sum(keep))}
    if photo is not None and out:
        share, on = ink_share(photo, np.asarray([o["bbox"] for o in out]),
                              np.asarray(expected) if expected_all is not None else None)
        report["ink_share"] = share
        for o, flag in zip(out, on):
            o["on_ink"] = bool(flag)
    return out, report


def transfer_iou(symbols: list, homography: np.ndarray, true_mapping: PointMap, classes=None) -> np.ndarray:
    """IoU of each transferred box with the box transferred by the true mapping (for evaluation)."""
    keep = [s for s in symbols if classes is None or s.cls in classes]
    boxes = np.asarray([s.bbox for s in keep], dtype=np.float64).reshape(-1, 4)
    a = map_boxes(boxes, homography)
    b = map_boxes(boxes, true_mapping)
    return np.array([box_iou(a[i:i + 1], b[i:i + 1])[0, 0] for i in range(len(a))])
