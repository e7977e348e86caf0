"""Detector training (staged Deep Watershed schedule), fine-tuning and evaluation.

Stages: class head alone, energy head alone, box head alone, energy again, then all three together with
each loss divided by its running mean. The backbone trains in every stage.
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from torch.nn import functional as F

from ml.common.checkpoint import save_checkpoint
from ml.common.device import pick_device, seed_everything
from ml.common.finetuning import blend, freeze_norm_statistics, snapshot
from ml.common.schedule import TimeBudget, WarmupCosine
from ml.common.trainer import CallbackBase, Progress, TrainingCancelled, fit
from ml.omr.align import ink_map
from ml.omr.config import DetectorConfig, preset
from ml.omr.data import Sample, sample_from_page
from ml.omr.dwd import (add_margin, collect_patches, make_targets, match_detections, mean_average_precision,
                        rare_classes)
from ml.omr.model import DeepWatershed, count_parameters, load_model
from ml.omr.predict import Predictor

STAGES = ("class", "energy", "box", "energy", "all")


def _noop(_: str) -> None:
    pass


# ------------------------------------------------------------------------------------------ data

def synthetic_samples(n_pages: int, seed: int = 0, photos: bool = True, kind: str = "moderate") -> list[Sample]:
    """Clean renders and (optionally) simulated photos of them with the truth mapped in."""
    from ml.omr.synth import make_page

    renders = [sample_from_page(make_page(seed + i), {"kind": "render"}) for i in range(n_pages)]
    return with_photos(renders, 1, seed + 10_000, kind) if photos else renders


def with_photos(samples: list[Sample], per_sample: int, seed: int, kind: str = "moderate",
                workers: int = 1) -> list[Sample]:
    """The samples followed by ``per_sample`` simulated photos of each (truth moved in through the exact
    page->photo mapping). Needs only OpenCV, so a machine without the renderer can still train on photos."""
    jobs = [(smp, seed + k * 100_003 + i, kind) for k in range(per_sample) for i, smp in enumerate(samples)]
    return list(samples) + _map(_photo_of, jobs, workers)


def _photo_of(job: tuple[Sample, int, str]) -> Sample:
    from ml.omr.degrade import degrade
    from ml.omr.transfer import map_boxes

    smp, seed, kind = job
    photo, mapping = degrade(smp.image, seed=seed, cfg=kind)
    boxes = map_boxes(np.asarray([s["bbox"] for s in smp.symbols], np.float64).reshape(-1, 4), mapping.page_to_photo)
    syms = [{"class": s["class"], "bbox": b.tolist()} for s, b in zip(smp.symbols, boxes)]
    return Sample(photo, {}, syms, {**smp.meta, "kind": kind})


def _map(fn, items: list, workers: int) -> list:
    """``[fn(x) for x in items]``, in ``workers`` forked processes when > 1 (page preparation is numpy work
    that a GPU machine's idle cores can share; forked before CUDA is touched)."""
    if workers <= 1 or len(items) < 2:
        return [fn(x) for x in items]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(workers, len(items)), mp_context=mp.get_context("fork")) as ex:
        return list(ex.map(fn, items, chunksize=1))


class _Prepared:
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


def _prepare(samples: list[Sample], cfg: DetectorConfig, class_index: dict[str, int], rare: list[str],
             use_margin: bool, seed: int, workers: int = 1) -> list[_Prepared]:
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
    return _map(_prepared, jobs, workers)


def _prepared(job) -> _Prepared:
    image, syms, class_index, levels, margin_x0, counts = job
    p = _Prepared(image, syms, class_index, levels)
    p.margin_x0 = margin_x0
    # crops are centred on symbols drawn with weight 1/sqrt(class count): rarer classes are seen more
    wts = np.asarray([counts.get(c, 1) ** -0.5 for c in p.symbol_classes], np.float64)
    p.pick = np.cumsum(wts) / wts.sum() if len(wts) else wts
    return p


def _batches(prepared: list[_Prepared], cfg: DetectorConfig, device: torch.device, seed: int):
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


# ------------------------------------------------------------------------------------------ losses

class _RunningMean:
    def __init__(self, momentum: float = 0.95):
        self.m, self.value = momentum, None

    def update(self, v: float) -> float:
        self.value = v if self.value is None else self.m * self.value + (1 - self.m) * v
        return max(self.value, 1e-6)


def _losses(out: dict, cls_t, en_t, box_t, weight) -> dict[str, torch.Tensor]:
    """Pixel losses, each weighted by ``weight`` (instance-balanced, see ``make_targets``). The class and box
    heads are judged inside symbols only: background is the energy head's job, and judged on every pixel
    the class head collapsed to background in short runs."""
    fg = (en_t > 0).float()
    wfg = weight * fg
    nfg = wfg.sum().clamp_min(1.0)
    ce_cls = F.cross_entropy(out["cls"].float(), cls_t, reduction="none")
    l_cls = (ce_cls * wfg).sum() / nfg
    ce_en = F.cross_entropy(out["energy"].float(), en_t, reduction="none")
    l_en = (ce_en * weight).sum() / weight.sum().clamp_min(1.0)
    err = F.smooth_l1_loss(out["box"].float(), box_t, reduction="none", beta=0.05)
    # offsets are in units of the symbol's size: an error of 0.1 there matters as much as 10 % in size
    l_box = (err.sum(1) * wfg).sum() / nfg
    return {"cls": l_cls, "energy": l_en, "box": l_box}


def _step_fn(stage: str, means: dict[str, _RunningMean]):
    def step(model, batch):
        x, cls_t, en_t, box_t, weight = batch
        losses = _losses(model(x), cls_t, en_t, box_t, weight)
        logs = {f"loss_{k}": float(v.detach()) for k, v in losses.items()}
        if stage == "class":
            return losses["cls"], logs
        if stage == "energy":
            return losses["energy"], logs
        if stage == "box":
            return losses["box"], logs
        total = sum(v / means[k].update(float(v.detach())) for k, v in losses.items())
        return total, logs
    return step


class _StageOffset(CallbackBase):
    """Reports progress over the whole staged schedule to the caller's callbacks."""

    def __init__(self, callbacks: list, offset: int, total: int, stage: int):
        self.callbacks, self.offset, self.total, self.stage = callbacks, offset, total, stage
        self.steps = 0

    def on_step(self, p: Progress) -> None:
        self.steps = p.step
        q = Progress(step=self.offset + p.step, total_steps=self.total, epoch=p.epoch, loss=p.loss,
                     logs={**p.logs, "stage": float(self.stage)}, elapsed_s=p.elapsed_s)
        for cb in self.callbacks:
            cb.on_step(q)

    def should_stop(self) -> bool:
        return any(cb.should_stop() for cb in self.callbacks)


def _run_schedule(model, prepared, cfg: DetectorConfig, device, callbacks, seed: int, steps: tuple[int, ...],
                  lr: float, time_budget_s: float = 0.0) -> list[dict]:
    """The staged schedule. With ``time_budget_s`` > 0 the first stage's pace decides whether the rest fits;
    if not, every later stage is shortened by the same factor (the run ends near the budget on an unknown
    machine instead of overrunning it), and the budget (``ml.common.schedule.TimeBudget``) stops the run
    wherever it is when the time is spent (the model trained so far is kept)."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    means = {k: _RunningMean() for k in ("cls", "energy", "box")}
    steps = list(steps)
    total = sum(steps)
    offset = 0
    history = []
    model.to(device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True   # fixed crop size: let cuDNN pick its fastest kernels
    budget = TimeBudget(time_budget_s)
    for i, stage in enumerate(STAGES):
        n = steps[i]
        if n <= 0:
            continue
        # the joint stage decays from lr to 5 % of it (cosine, no warm-up); the single-head stages run at lr
        sched = WarmupCosine(opt, lr, n, warmup=0.0, floor=0.05) if stage == "all" else None
        cb = _StageOffset(list(callbacks), offset, total, i)
        t0 = time.perf_counter()
        try:
            h = fit(model, _batches(prepared, cfg, device, seed + i), _step_fn(stage, means),
                    epochs=1, steps_per_epoch=n, optimizer=opt, device=device, callbacks=[cb, budget], scheduler=sched)
        except TrainingCancelled:
            if not budget.hit:
                raise
            model.eval()
            history.append({"stage": stage, "steps": cb.steps, "seconds": round(time.perf_counter() - t0, 2),
                            "budget_stop": True})
            break
        history.append({"stage": stage, "steps": n, "seconds": round(time.perf_counter() - t0, 2), **h[-1]})
        offset += n
        rest = sum(steps[i + 1:])
        if time_budget_s > 0 and rest and len(history) == 1:
            per_step = (time.perf_counter() - t0) / n
            left = time_budget_s * (1.0 - budget.fraction())
            scale = min(1.0, max(0.0, left) / (per_step * rest))
            if scale < 1.0:
                steps[i + 1:] = [max(1, int(k * scale)) if k > 0 else 0 for k in steps[i + 1:]]
                total = offset + sum(steps[i + 1:])
    return history


# ------------------------------------------------------------------------------------------ public API

def train(samples: list[Sample] | None, out: str | Path, *, config: DetectorConfig | None = None,
          callbacks: Iterable[CallbackBase] = (), seed: int = 0, device: str | torch.device | None = None,
          use_margin: bool = True, n_pages: int = 12, time_budget_s: float = 0.0, workers: int = 1,
          log: Callable[[str], None] = _noop) -> dict:
    """Train a detector from scratch on ``samples`` (None: ``n_pages`` synthetic renders + photos) into ``out``."""
    device = pick_device(str(device) if device else None)
    cfg = config or preset()
    seed_everything(seed)
    samples = samples if samples is not None else synthetic_samples(n_pages, seed=seed)
    counts = Counter(s["class"] for smp in samples for s in smp.symbols)
    classes = tuple(sorted(counts)) if not cfg.classes else cfg.classes
    cfg = replace(cfg, classes=classes)
    frequent = [c for c, _ in counts.most_common(20)]
    rare = [c for c in rare_classes([s.symbols for s in samples], 20) if c in classes]
    class_index = {c: i for i, c in enumerate(classes)}
    t0 = time.perf_counter()
    prepared = _prepare(samples, cfg, class_index, rare, use_margin, seed, workers)
    model = DeepWatershed(len(classes), cfg.energy_levels, cfg.widths)
    t_prep = time.perf_counter() - t0
    log(f"prepared {len(prepared)} pages ({len(classes)} classes) in {t_prep:.1f}s")
    history = _run_schedule(model, prepared, cfg, device, callbacks, seed, cfg.steps, cfg.lr, time_budget_s)
    meta = {"frequent_classes": frequent, "rare_classes": rare, "class_counts": dict(counts),
            "prepare_seconds": t_prep, "steps_run": [h["steps"] for h in history], "use_margin": use_margin,
            "train_samples": len(samples), "history": history,
            "train_seconds": time.perf_counter() - t0, "parameters": count_parameters(model),
            "device": str(device)}
    save_checkpoint(out, model, {"detector": cfg.to_dict(), **meta})
    return meta


def finetune(from_checkpoint: str | Path, samples: list[Sample], replay_samples: list[Sample], out: str | Path, *,
             steps: int | None = None, callbacks: Iterable[CallbackBase] = (), seed: int = 0,
             device: str | torch.device | None = None, lr: float | None = None, freeze_norm: bool = False,
             alpha: float = 1.0, log: Callable[[str], None] = _noop) -> dict:
    """Continue training the champion on new samples mixed with a replay buffer (same classes; symbols of
    unknown classes are ignored). Only the joint stage runs: exactly ``steps`` optimiser steps. ``freeze_norm``
    and ``alpha`` (WiSE-FT averaging with the champion's weights) as ``ml.common.finetuning``."""
    device = pick_device(str(device) if device else None)
    model, cfg, conf = load_model(from_checkpoint, device)
    champion_weights = snapshot(model)
    if freeze_norm:
        freeze_norm_statistics(model)
    seed_everything(seed)
    class_index = {c: i for i, c in enumerate(cfg.classes)}
    pool = list(samples) + list(replay_samples)
    if not pool:
        raise ValueError("finetune needs at least one sample")
    prepared = _prepare(pool, cfg, class_index, conf.get("rare_classes", []), conf.get("use_margin", True), seed)
    n = steps if steps is not None else max(20, cfg.steps[-1] // 3)
    log(f"fine-tuning on {len(samples)} new + {len(replay_samples)} replay pages for {n} steps")
    t0 = time.perf_counter()
    history = _run_schedule(model, prepared, cfg, device, callbacks, seed, (0, 0, 0, 0, n), lr or cfg.lr * 0.3)
    blend(model, champion_weights, alpha)
    meta = {k: v for k, v in conf.items() if k != "detector"}
    meta.update(history=history, finetuned_from=str(from_checkpoint), new_samples=len(samples),
                replay_samples=len(replay_samples), train_seconds=time.perf_counter() - t0,
                freeze_norm=freeze_norm, alpha=alpha)
    save_checkpoint(out, model, {"detector": cfg.to_dict(), **meta})
    return meta


def evaluate(checkpoint: str | Path, samples: list[Sample], device: str | torch.device | None = None,
             batch_size: int | None = None) -> dict:
    """mAP@0.5 overall (over the training's 20 most frequent classes), recall of rare classes, and the same
    per slice (kind: render / degradation, font = publisher) and per class."""
    pred = Predictor.load(checkpoint, device=device)
    conf = pred.meta
    frequent = [c for c in conf.get("frequent_classes", []) if c in pred.cfg.classes]
    rare = conf.get("rare_classes", [])
    t0 = time.perf_counter()
    results = pred.predict([s.image for s in samples], batch_size=batch_size)
    seconds = time.perf_counter() - t0
    matches = [match_detections(r.detections, s.symbols) for r, s in zip(results, samples)]

    def summary(idx: list[int]) -> dict:
        ms = [matches[i] for i in idx]
        f = mean_average_precision(ms, frequent)
        r = mean_average_precision(ms, rare)
        rare_support = sum(r["support"].values())
        rare_hits = sum(r["recall"].get(c, 0) * r["support"][c] for c in r["recall"])
        return {"images": len(idx), "mAP_frequent": f["mAP"], "mAP_rare": r["mAP"],
                "recall_rare": (rare_hits / rare_support) if rare_support else None, "rare_support": rare_support}

    slices: dict[str, dict] = {}
    for key in ("kind", "font"):
        for v in sorted({str(s.meta.get(key, "")) for s in samples}):
            slices[f"{key}:{v}"] = summary([i for i, s in enumerate(samples) if str(s.meta.get(key, "")) == v])
    per_class = mean_average_precision(matches, list(pred.cfg.classes))
    return {"overall": summary(list(range(len(samples)))), "slices": slices,
            "per_class": {c: {"ap": per_class["ap"].get(c), "recall": per_class["recall"].get(c),
                              "support": per_class["support"].get(c, 0)} for c in pred.cfg.classes},
            "frequent_classes": frequent, "rare_classes": rare, "seconds": seconds,
            "pages_per_s": len(samples) / max(seconds, 1e-9)}


def write_json(path: str | Path, payload: dict) -> None:
    Path(path).write_text(json.dumps(payload, indent=1, default=float))


__all__ = ["train", "finetune", "evaluate", "synthetic_samples", "load_model", "write_json"]
