"""Detector training (staged Deep Watershed schedule), fine-tuning and evaluation.

Stages: class head alone, energy head alone, box head alone, energy again, then all three together with
each loss divided by its running mean. The backbone trains in every stage.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from torch.nn import functional as F

from ml.common.checkpoint import load_config, save_checkpoint
from ml.common.device import pick_device, seed_everything
from ml.common.trainer import CallbackBase, Progress, fit
from ml.omr.align import ink_map
from ml.omr.config import DetectorConfig, detector_config
from ml.omr.data import Sample, sample_from_page
from ml.omr.dwd import (add_margin, collect_patches, make_targets, match_detections, mean_average_precision,
                        rare_classes)
from ml.omr.model import DeepWatershed, count_parameters

STAGES = ("class", "energy", "box", "energy", "all")


# ------------------------------------------------------------------------------------------ data

def synthetic_samples(n_pages: int, seed: int = 0, photos: bool = True, kind: str = "moderate") -> list[Sample]:
    """Clean renders and (optionally) simulated photos of them with the truth mapped in."""
    from ml.omr.degrade import degrade
    from ml.omr.synth import make_page
    from ml.omr.transfer import map_boxes

    out = []
    for i in range(n_pages):
        page = make_page(seed + i)
        out.append(sample_from_page(page, {"kind": "render"}))
        if photos:
            photo, mapping = degrade(page.image, seed=seed + i + 10_000, cfg=kind)
            boxes = map_boxes(page.boxes(), mapping.page_to_photo)
            syms = [{"class": s.cls, "bbox": b.tolist()} for s, b in zip(page.symbols, boxes)]
            out.append(Sample(photo, {}, syms, {"kind": kind, "font": page.font, "piece": page.piece,
                                                 "page": page.page}))
    return out


class _Prepared:
    """A sample with its network input (ink map) and per-pixel targets, optionally with a margin strip."""

    def __init__(self, image: np.ndarray, symbols: list[dict], class_index: dict[str, int], levels: int,
                 stride: int = 2):
        H, W = image.shape
        H, W = H - H % stride, W - W % stride
        self.x = ink_map(image[:H, :W]).astype(np.float32)
        self.stride = stride
        self.cls, self.energy, self.box = make_targets((H // stride, W // stride), symbols, class_index, levels,
                                                       scale=1.0 / stride)
        self.centres = np.asarray([[(s["bbox"][0] + s["bbox"][2]) / 2, (s["bbox"][1] + s["bbox"][3]) / 2]
                                   for s in symbols if s["class"] in class_index]).reshape(-1, 2)
        self.margin_x0 = image.shape[1]


def _prepare(samples: list[Sample], cfg: DetectorConfig, class_index: dict[str, int], rare: list[str],
             use_margin: bool, seed: int) -> list[_Prepared]:
    rng = np.random.default_rng(seed)
    bank = collect_patches(samples, set(rare)) if use_margin and rare and cfg.margin_width > 0 else []
    prepared = []
    for s in samples:
        image, syms = s.image, s.symbols
        width = 0
        if bank:
            image, syms = add_margin(image, syms, bank, cfg.margin_width, cfg.rare_patches, rng)
            width = cfg.margin_width
        p = _Prepared(image, syms, class_index, cfg.energy_levels)
        p.margin_x0 = image.shape[1] - width
        prepared.append(p)
    return prepared


def _batches(prepared: list[_Prepared], cfg: DetectorConfig, device: torch.device, seed: int):
    rng = np.random.default_rng(seed)
    c = cfg.crop
    st = DeepWatershed.output_stride
    co = c // st

    def gen(epoch: int):
        while True:
            xs, cl, en, bx = [], [], [], []
            for _ in range(cfg.batch_size):
                p = prepared[int(rng.integers(len(prepared)))]
                H, W = p.x.shape
                r = rng.random()
                if r < 0.2 and p.margin_x0 < W:            # the rare-symbol margin strip
                    cx = rng.uniform(p.margin_x0, W)
                    cy = rng.uniform(0, H)
                elif r < 0.85 and len(p.centres):           # around a symbol
                    cx, cy = p.centres[int(rng.integers(len(p.centres)))] + rng.uniform(-c / 3, c / 3, 2)
                else:
                    cx, cy = rng.uniform(0, W), rng.uniform(0, H)
                x0 = int(np.clip(cx - c / 2, 0, max(0, W - c))) // st * st
                y0 = int(np.clip(cy - c / 2, 0, max(0, H - c))) // st * st
                sl = (slice(y0, y0 + c), slice(x0, x0 + c))
                so = (slice(y0 // st, y0 // st + co), slice(x0 // st, x0 // st + co))
                xs.append(_pad(p.x[sl], c))
                cl.append(_pad(p.cls[so], co))
                en.append(_pad(p.energy[so], co))
                bx.append(np.stack([_pad(p.box[0][so], co), _pad(p.box[1][so], co)]))
            yield (torch.from_numpy(np.stack(xs)[:, None]).to(device),
                   torch.from_numpy(np.stack(cl).astype(np.int64)).to(device),
                   torch.from_numpy(np.stack(en).astype(np.int64)).to(device),
                   torch.from_numpy(np.stack(bx)).to(device))

    return gen


def _pad(a: np.ndarray, c: int) -> np.ndarray:
    if a.shape[0] == c and a.shape[1] == c:
        return a
    out = np.zeros((c, c), a.dtype)
    out[:a.shape[0], :a.shape[1]] = a
    return out


# ------------------------------------------------------------------------------------------ losses

class _RunningMean:
    def __init__(self, momentum: float = 0.95):
        self.m, self.value = momentum, None

    def update(self, v: float) -> float:
        self.value = v if self.value is None else self.m * self.value + (1 - self.m) * v
        return max(self.value, 1e-6)


def _losses(out: dict, cls_t, en_t, box_t, n_classes: int, levels: int) -> dict[str, torch.Tensor]:
    cw = torch.ones(n_classes + 1, device=cls_t.device)
    cw[0] = 0.2
    ew = torch.ones(levels, device=cls_t.device)
    ew[0] = 0.2
    # the class head is judged inside symbols only (background is the energy head's job); judged on every
    # pixel it collapsed to background in short CPU runs
    fg_cls = torch.where(en_t > 0, cls_t, torch.full_like(cls_t, -100))
    l_cls = F.cross_entropy(out["cls"].float(), fg_cls, weight=cw, ignore_index=-100) if (en_t > 0).any() \
        else out["cls"].float().sum() * 0.0
    l_en = F.cross_entropy(out["energy"].float(), en_t, weight=ew)
    fg = (en_t > 0).unsqueeze(1).float()
    l_box = (F.smooth_l1_loss(out["box"].float(), box_t, reduction="none", beta=0.1) * fg).sum() / (2 * fg.sum() + 1)
    return {"cls": l_cls, "energy": l_en, "box": l_box}


def _step_fn(stage: str, n_classes: int, levels: int, means: dict[str, _RunningMean]):
    def step(model, batch):
        x, cls_t, en_t, box_t = batch
        losses = _losses(model(x), cls_t, en_t, box_t, n_classes, levels)
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

    def on_step(self, p: Progress) -> None:
        q = Progress(step=self.offset + p.step, total_steps=self.total, epoch=p.epoch, loss=p.loss,
                     logs={**p.logs, "stage": float(self.stage)}, elapsed_s=p.elapsed_s)
        for cb in self.callbacks:
            cb.on_step(q)

    def should_stop(self) -> bool:
        return any(cb.should_stop() for cb in self.callbacks)


def _run_schedule(model, prepared, cfg: DetectorConfig, device, callbacks, seed: int, steps: tuple[int, ...],
                  lr: float) -> list[dict]:
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    means = {k: _RunningMean() for k in ("cls", "energy", "box")}
    total = sum(steps)
    offset = 0
    history = []
    model.to(device)
    for i, (stage, n) in enumerate(zip(STAGES, steps)):
        if n <= 0:
            continue
        if stage == "all":
            for g in opt.param_groups:
                g["lr"] = lr
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, n, eta_min=lr * 0.05)
        else:
            sched = None
        cb = _StageOffset(list(callbacks), offset, total, i)
        h = fit(model, _batches(prepared, cfg, device, seed + i), _step_fn(stage, len(cfg.classes), cfg.energy_levels, means),
                epochs=1, steps_per_epoch=n, optimizer=opt, device=device, callbacks=[cb], scheduler=sched)
        history.append({"stage": stage, "steps": n, **h[-1]})
        offset += n
    return history


# ------------------------------------------------------------------------------------------ public API

def train(out: str | Path, samples: list[Sample] | None = None, cfg: DetectorConfig | None = None,
          callbacks: Iterable[CallbackBase] = (), seed: int = 0, device: str | torch.device | None = None,
          use_margin: bool = True, n_pages: int = 12) -> dict:
    """Train a detector from scratch on ``samples`` (default: synthetic renders + photos) into ``out``."""
    device = pick_device(str(device) if device else None)
    cfg = cfg or detector_config()
    seed_everything(seed)
    samples = samples if samples is not None else synthetic_samples(n_pages, seed=seed)
    counts = Counter(s["class"] for smp in samples for s in smp.symbols)
    classes = tuple(sorted(counts)) if not cfg.classes else cfg.classes
    cfg = replace(cfg, classes=classes)
    frequent = [c for c, _ in counts.most_common(20)]
    rare = [c for c in rare_classes([s.symbols for s in samples], 20) if c in classes]
    class_index = {c: i for i, c in enumerate(classes)}
    t0 = time.perf_counter()
    prepared = _prepare(samples, cfg, class_index, rare, use_margin, seed)
    model = DeepWatershed(len(classes), cfg.energy_levels, cfg.widths)
    history = _run_schedule(model, prepared, cfg, device, callbacks, seed, cfg.steps, cfg.lr)
    meta = {"frequent_classes": frequent, "rare_classes": rare, "class_counts": dict(counts),
            "use_margin": use_margin, "train_samples": len(samples), "history": history,
            "train_seconds": time.perf_counter() - t0, "parameters": count_parameters(model),
            "device": str(device)}
    save_checkpoint(out, model, {"detector": cfg.to_dict(), **meta})
    return meta


def load_model(checkpoint: str | Path, device: torch.device | None = None) -> tuple[DeepWatershed, DetectorConfig, dict]:
    from ml.common.checkpoint import load_weights

    conf = load_config(checkpoint)
    d = dict(conf["detector"])
    d["widths"] = tuple(d["widths"])
    d["steps"] = tuple(d["steps"])
    d["classes"] = tuple(d["classes"])
    cfg = DetectorConfig(**d)
    model = DeepWatershed(len(cfg.classes), cfg.energy_levels, cfg.widths)
    load_weights(checkpoint, model, device or "cpu")
    model.to(device or "cpu").eval()
    return model, cfg, conf


def finetune(from_checkpoint: str | Path, samples: list[Sample], replay_samples: list[Sample], out: str | Path,
             callbacks: Iterable[CallbackBase] = (), steps: int | None = None, seed: int = 0,
             device: str | torch.device | None = None, lr: float | None = None) -> dict:
    """Continue training the champion on new samples mixed with a replay buffer (same classes; symbols of
    unknown classes are ignored). Only the joint stage runs."""
    device = pick_device(str(device) if device else None)
    model, cfg, conf = load_model(from_checkpoint, device)
    seed_everything(seed)
    class_index = {c: i for i, c in enumerate(cfg.classes)}
    pool = list(samples) + list(replay_samples)
    if not pool:
        raise ValueError("finetune needs at least one sample")
    prepared = _prepare(pool, cfg, class_index, conf.get("rare_classes", []), conf.get("use_margin", True), seed)
    n = steps if steps is not None else max(20, cfg.steps[-1] // 3)
    t0 = time.perf_counter()
    history = _run_schedule(model, prepared, cfg, device, callbacks, seed, (0, 0, 0, 0, n), lr or cfg.lr * 0.3)
    meta = {k: v for k, v in conf.items() if k != "detector"}
    meta.update(history=history, finetuned_from=str(from_checkpoint), new_samples=len(samples),
                replay_samples=len(replay_samples), train_seconds=time.perf_counter() - t0)
    save_checkpoint(out, model, {"detector": cfg.to_dict(), **meta})
    return meta


def evaluate(checkpoint: str | Path, samples: list[Sample], device: str | torch.device | None = None,
             batch_size: int | None = None) -> dict:
    """mAP@0.5 overall (over the training's 20 most frequent classes), recall of rare classes, and the same
    per slice (kind: render / degradation, font = publisher) and per class."""
    from ml.omr.predict import Predictor

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
