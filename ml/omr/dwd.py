"""Deep Watershed pieces without the network: training targets, energy -> boxes, margin patches, mAP."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.common.metrics import average_precision, box_iou

MIN_HALF = 2.0   # energy regions are at least 4 px across, so thin symbols (stems, ledger lines) get a core
WEIGHT_REF = 24.0   # a region of WEIGHT_REF**2 px (a notehead's at 150 dpi is ~ 130 px) weighs ~ 2 per pixel


def make_targets(shape: tuple[int, int], symbols: list[dict], class_index: dict[str, int], levels: int,
                 scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel targets on a grid of ``shape`` (H, W) = image size * ``scale`` (the network's output).

    cls (uint8, 0 = background, c + 1 for class c); energy (uint8 level 0..levels-1: 0 outside symbols,
    levels-1 at the centre, falling linearly to the box border); box (4 x H x W float32: offset from the
    pixel centre to the box centre divided by the box width / height, log width, log height; in image
    pixels whatever ``scale``; meaningful where energy > 0); weight (float32, 1 on background, on a symbol
    ~ 1/sqrt(its region's area), clipped to [0.25, 4], so a long slur or a beam does not outweigh a dozen
    noteheads). Larger symbols are drawn first so smaller ones stay on top; a symbol cut in two by a
    smaller one still votes for its whole box through the offsets.
    """
    H, W = shape
    cls = np.zeros((H, W), np.uint8)
    energy = np.zeros((H, W), np.uint8)
    box = np.zeros((4, H, W), np.float32)
    weight = np.ones((H, W), np.float32)
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
        px = np.arange(ix0, ix1) + 0.5
        py = np.arange(iy0, iy1) + 0.5
        e = 1.0 - np.maximum(np.abs((px - cx) / hw)[None, :], np.abs((py - cy) / hh)[:, None])
        q = np.clip(np.ceil(e * (levels - 1)), 0, levels - 1).astype(np.uint8)
        m = q > 0
        if not m.any():
            continue
        sub = (slice(iy0, iy1), slice(ix0, ix1))
        bw, bh = max(1.0, bx1 - bx0), max(1.0, by1 - by0)
        cls[sub][m] = c + 1
        energy[sub][m] = q[m]
        box[0][sub][m] = np.broadcast_to(((cx - px) / scale / bw)[None, :], q.shape)[m]
        box[1][sub][m] = np.broadcast_to(((cy - py) / scale / bh)[:, None], q.shape)[m]
        box[2][sub][m] = np.log(bw)
        box[3][sub][m] = np.log(bh)
        weight[sub][m] = np.clip(WEIGHT_REF / np.sqrt(m.sum() / scale ** 2), 0.25, 4.0)
    return cls, energy, box, weight


@dataclass
class Detection:
    cls: str
    bbox: tuple[float, float, float, float]
    score: float

    def to_dict(self) -> dict:
        return {"class": self.cls, "bbox": [round(float(v), 2) for v in self.bbox],
                "score": round(float(self.score), 4)}


def energy_to_boxes(energy_prob: np.ndarray, cls_prob: np.ndarray, box_map: np.ndarray, classes: list[str],
                    threshold: int = 3, min_component: int = 2, stride: float = 1.0,
                    nms_iou: float = 0.5, max_detections: int = 3000) -> list[Detection]:
    """Energy maps -> boxes. energy_prob: K x H x W (softmax over levels), cls_prob: (C+1) x H x W,
    box_map: 4 x H x W (the box head's output, see ``make_targets``). ``stride``: image pixels per map
    pixel; boxes come back in image pixels. Dense wrapper of ``boxes_from_core``."""
    levels = energy_prob.shape[0]
    core = energy_prob[threshold:].sum(0) >= 0.5
    expected = np.tensordot(np.arange(levels, dtype=np.float32), energy_prob, axes=1)
    ys, xs = np.nonzero(core)
    return boxes_from_core(core, expected[ys, xs] / (levels - 1), cls_prob[:, ys, xs], box_map[:, ys, xs], classes,
                           min_component, stride, nms_iou, max_detections)


def boxes_from_core(core: np.ndarray, peak: np.ndarray, cls_prob: np.ndarray, box_vals: np.ndarray,
                    classes: list[str], min_component: int = 2, stride: float = 1.0,
                    nms_iou: float = 0.5, max_detections: int = 3000) -> list[Detection]:
    """The watershed cut: the pixels more likely than not to reach the energy threshold (``core``, H x W
    bool) of one predicted class form connected components, one per symbol (or per piece of a symbol cut by
    a smaller one on top); splitting by class keeps a ledger line apart from the notehead it crosses.
    Values are given at ``np.nonzero(core)`` only (so a caller on a GPU moves just those): ``peak`` (expected
    energy / (K-1)), ``cls_prob`` ((C+1) x N), ``box_vals`` (4 x N). A component's class is its pixels'
    (argmax) class, its score the mean probability of that class times the peak energy, its box the
    energy-weighted mean of its pixels' votes (centre = pixel + offset * size, size = exp(mean log size)).
    Pieces of one symbol vote for the same box; same-class boxes
    overlapping at IoU > ``nms_iou`` are merged by keeping the best-scored one. At most ``max_detections``
    (best scores) per image; a 150-dpi page holds ~ 500 symbols.
    """
    ys, xs = np.nonzero(core)
    if len(ys) == 0:
        return []
    pix_cls = cls_prob[1:].argmax(0)
    lab, n = _label_per_class(ys, xs, pix_cls)
    w = np.maximum(peak.astype(np.float64), 1e-3)
    count = np.bincount(lab, minlength=n).astype(np.float64)
    wsum = np.maximum(np.bincount(lab, w, minlength=n), 1e-9)
    lw, lh = box_vals[2].astype(np.float64), box_vals[3].astype(np.float64)
    px = (xs + 0.5) * stride + box_vals[0] * np.exp(lw)
    py = (ys + 0.5) * stride + box_vals[1] * np.exp(lh)
    cx = np.bincount(lab, w * px, minlength=n) / wsum
    cy = np.bincount(lab, w * py, minlength=n) / wsum
    bw = np.exp(np.bincount(lab, w * lw, minlength=n) / wsum)
    bh = np.exp(np.bincount(lab, w * lh, minlength=n) / wsum)
    best = np.zeros(n, np.int64)
    best[lab] = pix_cls
    cp = np.bincount(lab, cls_prob[pix_cls + 1, np.arange(len(ys))], minlength=n)
    wmax = np.zeros(n)
    np.maximum.at(wmax, lab, w)
    keep = np.nonzero(count >= max(1, min_component))[0]
    keep = keep[keep > 0]
    if len(keep) > max_detections:   # an untrained or confused network can cut a page into 10^5 bits
        keep = keep[np.argsort(-(cp[keep] / count[keep] * wmax[keep]), kind="stable")[:max_detections]]
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)
    scores = cp / np.maximum(count, 1) * np.minimum(1.0, wmax)
    out: list[Detection] = []
    for c in np.unique(best[keep]):
        ks = keep[best[keep] == c]
        ks = ks[np.argsort(-scores[ks], kind="stable")]
        for k in _nms(boxes[ks], nms_iou):
            k = ks[k]
            out.append(Detection(classes[int(c)], tuple(float(v) for v in boxes[k]), float(scores[k])))
    return out


def _label_per_class(ys: np.ndarray, xs: np.ndarray, pix_cls: np.ndarray) -> tuple[np.ndarray, int]:
    """Component label (1..n-1) of every core pixel; pixels connect only to 4-neighbours of their class."""
    lab = np.zeros(len(ys), np.int64)
    n = 1
    for c in np.unique(pix_cls):
        idx = np.nonzero(pix_cls == c)[0]
        y0, x0 = ys[idx].min(), xs[idx].min()
        m = np.zeros((ys[idx].max() - y0 + 1, xs[idx].max() - x0 + 1), np.uint8)
        m[ys[idx] - y0, xs[idx] - x0] = 1
        k, labels = cv2.connectedComponents(m, connectivity=4)
        lab[idx] = labels[ys[idx] - y0, xs[idx] - x0] + (n - 1)
        n += k - 1
    return lab, n


def _nms(boxes: np.ndarray, iou: float) -> list[int]:
    """Greedy suppression over boxes sorted by score; returns the kept positions."""
    if len(boxes) == 0:
        return []
    ious = box_iou(boxes, boxes)
    alive = np.ones(len(boxes), bool)
    kept = []
    for i in range(len(boxes)):
        if alive[i]:
            kept.append(i)
            alive &= ious[i] <= iou
    return kept


# ------------------------------------------------------------------------------------------ margin patches

def rare_classes(symbol_lists: list[list[dict]], frequent: int = 20) -> list[str]:
    """Classes outside the ``frequent`` most common ones (by count over the given symbol lists)."""
    from collections import Counter

    counts = Counter(s["class"] for syms in symbol_lists for s in syms)
    ranked = [c for c, _ in counts.most_common()]
    return ranked[frequent:]


def collect_patches(samples, classes: set[str], pad: int = 4,
                    limit_per_class: int = 40) -> list[tuple[np.ndarray, dict]]:
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
