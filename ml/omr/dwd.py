"""Deep Watershed pieces without the network: training targets, energy -> boxes, margin patches, mAP."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.common.metrics import average_precision, box_iou

MIN_HALF = 2.0   # energy regions are at least 4 px across, so thin symbols (stems, ledger lines) get a core


def make_targets(shape: tuple[int, int], symbols: list[dict], class_index: dict[str, int], levels: int,
                 scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel targets on a grid of ``shape`` (H, W) = image size * ``scale`` (the network's output).

    cls (uint8, 0 = background, c + 1 for class c), energy (uint8 level 0..levels-1: 0 outside symbols,
    levels-1 at the centre, falling linearly to the box border), box (2 x H x W float32 log w, log h;
    meaningful where energy > 0; in image pixels, whatever ``scale``). Larger symbols are drawn first, so smaller ones stay on top.
    """
    H, W = shape
    cls = np.zeros((H, W), np.uint8)
    energy = np.zeros((H, W), np.uint8)
    box = np.zeros((2, H, W), np.float32)
    items = [(s, class_index[s["class"]]) for s in symbols if s["class"] in class_index]
    items.sort(key=lambda t: -(t[0]["bbox"][2] - t[0]["bbox"][0]) * (t[0]["bbox"][3] - t[0]["bbox"][1]))
    for s, c in items:
        bx0, by0, bx1, by1 = s["bbox"]
        x0, y0, x1, y1 = bx0 * scale, by0 * scale, bx1 * scale, by1 * scale
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hw, hh = max(MIN_HALF * max(scale, 0.5), (x1 - x0) / 2), max(MIN_HALF * max(scale, 0.5), (y1 - y0) / 2)
        ix0, iy0 = max(0, int(np.floor(cx - hw))), max(0, int(np.floor(cy - hh)))
        ix1, iy1 = min(W, int(np.ceil(cx + hw))), min(H, int(np.ceil(cy + hh)))
        if ix1 <= ix0 or iy1 <= iy0:
            continue
        xs = (np.arange(ix0, ix1) + 0.5 - cx) / hw
        ys = (np.arange(iy0, iy1) + 0.5 - cy) / hh
        e = 1.0 - np.maximum(np.abs(xs)[None, :], np.abs(ys)[:, None])
        q = np.clip(np.ceil(e * (levels - 1)), 0, levels - 1).astype(np.uint8)
        m = q > 0
        if not m.any():
            continue
        sub = (slice(iy0, iy1), slice(ix0, ix1))
        cls[sub][m] = c + 1
        energy[sub][m] = q[m]
        box[0][sub][m] = np.log(max(1.0, bx1 - bx0))
        box[1][sub][m] = np.log(max(1.0, by1 - by0))
    return cls, energy, box


@dataclass
class Detection:
    cls: str
    bbox: tuple[float, float, float, float]
    score: float

    def to_dict(self) -> dict:
        return {"class": self.cls, "bbox": [round(float(v), 2) for v in self.bbox], "score": round(float(self.score), 4)}


def energy_to_boxes(energy_prob: np.ndarray, cls_prob: np.ndarray, box_log: np.ndarray, classes: list[str],
                    threshold: int = 3, min_component: int = 2, stride: float = 1.0) -> list[Detection]:
    """Energy maps -> boxes: pixels whose expected energy level reaches ``threshold`` form connected
    components, one per symbol; its class is the summed class probability's argmax over the component,
    its box is centred on the energy-weighted centroid with the component's mean predicted (log) size.

    energy_prob: K x H x W (softmax over levels), cls_prob: (C+1) x H x W, box_log: 2 x H x W (log sizes in
    image pixels). ``stride``: image pixels per map pixel; boxes come back in image pixels.
    """
    levels = energy_prob.shape[0]
    expected = np.tensordot(np.arange(levels, dtype=np.float32), energy_prob, axes=1)
    mask = (expected >= threshold).astype(np.uint8)
    n, labels = cv2.connectedComponents(mask, connectivity=4)
    if n <= 1:
        return []
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    w = expected[ys, xs].astype(np.float64)
    count = np.bincount(lab, minlength=n).astype(np.float64)
    wsum = np.bincount(lab, w, minlength=n)
    cx = np.bincount(lab, w * (xs + 0.5), minlength=n) / np.maximum(wsum, 1e-9) * stride
    cy = np.bincount(lab, w * (ys + 0.5), minlength=n) / np.maximum(wsum, 1e-9) * stride
    cp = np.stack([np.bincount(lab, cls_prob[c + 1][ys, xs], minlength=n) for c in range(len(classes))])
    bw = np.exp(np.bincount(lab, box_log[0][ys, xs], minlength=n) / np.maximum(count, 1))
    bh = np.exp(np.bincount(lab, box_log[1][ys, xs], minlength=n) / np.maximum(count, 1))
    wmax = np.zeros(n)
    np.maximum.at(wmax, lab, w)
    best = cp.argmax(0)
    out: list[Detection] = []
    for k in np.nonzero(count >= max(1, min_component))[0]:
        if k == 0:
            continue
        c = int(best[k])
        score = float(cp[c, k] / count[k]) * float(min(1.0, wmax[k] / (levels - 1)))
        out.append(Detection(classes[c], (float(cx[k] - bw[k] / 2), float(cy[k] - bh[k] / 2),
                                          float(cx[k] + bw[k] / 2), float(cy[k] + bh[k] / 2)), score))
    return out


# ------------------------------------------------------------------------------------------ margin patches

def rare_classes(symbol_lists: list[list[dict]], frequent: int = 20) -> list[str]:
    """Classes outside the ``frequent`` most common ones (by count over the given symbol lists)."""
    from collections import Counter

    counts = Counter(s["class"] for syms in symbol_lists for s in syms)
    ranked = [c for c, _ in counts.most_common()]
    return ranked[frequent:]


def collect_patches(samples, classes: set[str], pad: int = 4, limit_per_class: int = 40) -> list[tuple[np.ndarray, dict]]:
    """Crops of every symbol of the given classes (with a little context) and the box inside the crop."""
    bank: list[tuple[np.ndarray, dict]] = []
    per: dict[str, int] = {}
    for smp in samples:
        H, W = smp.image.shape
        for s in smp.symbols:
            if s["class"] not in classes or per.get(s["class"], 0) >= limit_per_class:
                continue
            x0, y0, x1, y1 = s["bbox"]
            cx0, cy0 = max(0, int(x0) - pad), max(0, int(y0) - pad)
            cx1, cy1 = min(W, int(np.ceil(x1)) + pad), min(H, int(np.ceil(y1)) + pad)
            if cx1 - cx0 < 3 or cy1 - cy0 < 3:
                continue
            crop = smp.image[cy0:cy1, cx0:cx1].copy()
            bank.append((crop, {"class": s["class"], "bbox": [x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0]}))
            per[s["class"]] = per.get(s["class"], 0) + 1
    return bank


def add_margin(image: np.ndarray, symbols: list[dict], bank: list[tuple[np.ndarray, dict]], width: int,
               count: int, rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """The page with a paper-coloured strip of ``width`` px added on the right, holding up to ``count``
    rare-symbol patches (non-overlapping), and the symbols including the pasted ones."""
    H, W = image.shape
    paper = int(np.median(image[:, -16:])) if W > 16 else 255
    out = np.full((H, W + width), paper, np.uint8)
    out[:, :W] = image
    syms = list(symbols)
    if not bank or width <= 0:
        return out, syms
    taken = np.zeros((H, width), bool)
    for _ in range(count * 4):
        if count <= 0:
            break
        crop, s = bank[int(rng.integers(len(bank)))]
        ch, cw = crop.shape
        if ch >= H or cw >= width - 4:
            continue
        y = int(rng.integers(0, H - ch))
        x = int(rng.integers(2, width - cw - 1))
        if taken[max(0, y - 2):y + ch + 2, max(0, x - 2):x + cw + 2].any():
            continue
        taken[y:y + ch, x:x + cw] = True
        region = out[y:y + ch, W + x:W + x + cw]
        np.minimum(region, crop, out=region)   # ink over paper
        x0, y0, x1, y1 = s["bbox"]
        syms.append({"class": s["class"], "bbox": [W + x + x0, y + y0, W + x + x1, y + y1]})
        count -= 1
    return out, syms


# ------------------------------------------------------------------------------------------ evaluation

def match_detections(dets: list[Detection], truth: list[dict], iou: float = 0.5) -> dict[str, tuple[list, list, int]]:
    """Per class: (scores, tp labels, number of truths) with greedy matching by score at IoU >= ``iou``."""
    out: dict[str, tuple[list, list, int]] = {}
    classes = {d.cls for d in dets} | {t["class"] for t in truth}
    for c in classes:
        d = sorted([x for x in dets if x.cls == c], key=lambda x: -x.score)
        t = np.asarray([x["bbox"] for x in truth if x["class"] == c], dtype=np.float64).reshape(-1, 4)
        used = np.zeros(len(t), bool)
        scores, labels = [], []
        ious = box_iou(np.asarray([x.bbox for x in d]).reshape(-1, 4), t) if len(d) and len(t) else None
        for i, det in enumerate(d):
            hit = 0
            if ious is not None:
                cand = np.where(~used, ious[i], -1)
                j = int(np.argmax(cand))
                if cand[j] >= iou:
                    used[j] = True
                    hit = 1
            scores.append(det.score)
            labels.append(hit)
        out[c] = (scores, labels, len(t))
    return out


def mean_average_precision(per_image: list[dict[str, tuple[list, list, int]]], classes: list[str]) -> dict:
    """AP per class over all images and their mean over the classes that have truths; recall too."""
    ap, recall, support = {}, {}, {}
    for c in classes:
        scores, labels, n = [], [], 0
        for m in per_image:
            if c in m:
                scores += m[c][0]
                labels += m[c][1]
                n += m[c][2]
        support[c] = n
        if n == 0:
            continue
        ap[c] = average_precision(scores, labels, n_positives=n) if scores else 0.0
        recall[c] = float(sum(labels) / n)
    vals = [v for v in ap.values() if v == v]
    return {"mAP": float(np.mean(vals)) if vals else float("nan"), "ap": ap, "recall": recall, "support": support}
