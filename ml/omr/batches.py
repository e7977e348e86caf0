"""Training crops: pages prepared once (ink map, per-pixel targets, an optional margin strip of rare symbols)
and cut into batches around symbols, rarer classes more often."""
from __future__ import annotations

import os
from collections import Counter

import numpy as np
import torch

from ml.omr.align import ink_map
from ml.omr.config import DetectorConfig
from ml.omr.data import Sample, map_in_processes
from ml.omr.dwd import add_margin, collect_patches, make_targets


class Prepared:
    """A sample with its network input (ink map) and per-pixel targets at full resolution, optionally with a
    margin strip. Stored compactly (float16 / uint8): a 150-dpi page holds ~30 MB of targets."""

    def __init__(self, image: np.ndarray, symbols: list[dict], class_index: dict[str, int], levels: int):
        self.x = ink_map(image).astype(np.float16)
        cls, energy, box, weight = make_targets(image.shape, symbols, class_index, levels)
        self.cls, self.energy = cls, energy
        self.box, self.weight = box.astype(np.float16), weight.astype(np.float16)
        kept = [s for s in symbols if s["class"] in class_index]
        self.centres = np.asarray([[(s["bbox"][0] + s["bbox"][2]) / 2, (s["bbox"][1] + s["bbox"][3]) / 2]
                                   for s in kept]).reshape(-1, 2)
        self.symbol_classes = [s["class"] for s in kept]
        self.margin_x0 = image.shape[1]


def prepare_pages(samples: list[Sample], cfg: DetectorConfig, class_index: dict[str, int], rare: list[str],
             use_margin: bool, seed: int, workers: int = 1) -> list[Prepared]:
    rng = np.random.default_rng(seed)
    bank = collect_patches(samples, set(rare)) if use_margin and rare and cfg.margin_width > 0 else []
    counts = Counter(s["class"] for smp in samples for s in smp.symbols)
    jobs = []
    for s in samples:
        image, syms = s.image, s.symbols
        if bank:
            image, syms = add_margin(image, syms, bank, cfg.margin_width, cfg.rare_patches, rng)
        jobs.append((image, syms, class_index, cfg.energy_levels, image.shape[1] - (cfg.margin_width if bank else 0),
                     counts))
    return map_in_processes(_prepared, jobs, workers)


def _prepared(job) -> Prepared:
    image, syms, class_index, levels, margin_x0, counts = job
    p = Prepared(image, syms, class_index, levels)
    p.margin_x0 = margin_x0
    # crops are centred on symbols drawn with weight 1/sqrt(class count): rarer classes are seen more
    wts = np.asarray([counts.get(c, 1) ** -0.5 for c in p.symbol_classes], np.float64)
    p.pick = np.cumsum(wts) / wts.sum() if len(wts) else wts
    return p


def crop_batches(prepared: list[Prepared], cfg: DetectorConfig, device: torch.device, seed: int):
    """``gen(epoch)`` yields batches (ink, cls, energy, box, weight) on ``device``. Crops are cut in the
    stored compact dtypes and widened on the device (3x fewer bytes through the host)."""
    c = cfg.crop

    def one_batch(rng: np.random.Generator):
        xs, cl, en, bx, wt = [], [], [], [], []
        for _ in range(cfg.batch_size):
            p = prepared[int(rng.integers(len(prepared)))]
            H, W = p.x.shape
            r = rng.random()
            if r < cfg.margin_share and p.margin_x0 < W:   # the rare-symbol margin strip
                cx, cy = rng.uniform(p.margin_x0, W), rng.uniform(0, H)
            elif r < 0.85 and len(p.centres):               # around a symbol
                k = min(int(np.searchsorted(p.pick, rng.random())), len(p.centres) - 1)
                cx, cy = p.centres[k] + rng.uniform(-c / 3, c / 3, 2)
            else:
                cx, cy = rng.uniform(0, W), rng.uniform(0, H)
            x0 = int(np.clip(cx - c / 2, 0, max(0, W - c)))
            y0 = int(np.clip(cy - c / 2, 0, max(0, H - c)))
            sl = (slice(y0, y0 + c), slice(x0, x0 + c))
            xs.append(_pad(p.x[sl], c))
            cl.append(_pad(p.cls[sl], c))
            en.append(_pad(p.energy[sl], c))
            bx.append(np.stack([_pad(p.box[i][sl], c) for i in range(p.box.shape[0])]))
            wt.append(_pad(p.weight[sl], c, fill=1))
        return [torch.from_numpy(np.stack(a)) for a in (xs, cl, en, bx, wt)]

    def widen(batch, non_blocking: bool = False):
        x, cl, en, bx, wt = (t.to(device, non_blocking=non_blocking) for t in batch)
        return x[:, None].float(), cl.long(), en.long(), bx.float(), wt.float()

    def gen(epoch: int):
        if device.type != "cuda":
            rng = np.random.default_rng(seed)
            while True:
                yield widen(one_batch(rng))
        # on a GPU, crops are cut by background threads (numpy copies release the GIL) while steps run
        import queue
        import threading

        q: queue.Queue = queue.Queue(maxsize=8)
        stop = threading.Event()

        def produce(k: int):
            rng = np.random.default_rng([seed, k])
            while not stop.is_set():
                try:
                    batch = [t.pin_memory() for t in one_batch(rng)]
                except Exception as e:   # hand the error to the training loop instead of starving it
                    batch = e
                while not stop.is_set():
                    try:
                        q.put(batch, timeout=0.5)
                        break
                    except queue.Full:
                        pass

        for k in range(min(6, os.cpu_count() or 1)):   # one thread cuts 16 crops of 512 px in ~ 90 ms
            threading.Thread(target=produce, args=(k,), daemon=True).start()
        try:
            while True:
                batch = q.get(timeout=120)
                if isinstance(batch, Exception):
                    raise RuntimeError("cutting training crops failed") from batch
                yield widen(batch, non_blocking=True)
        finally:   # the stage is over (the trainer stopped iterating)
            stop.set()

    return gen


def _pad(a: np.ndarray, c: int, fill=0) -> np.ndarray:
    if a.shape[0] == c and a.shape[1] == c:
        return a
    out = np.full((c, c), fill, a.dtype)
    out[:a.shape[0], :a.shape[1]] = a
    return out
