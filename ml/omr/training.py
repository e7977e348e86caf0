"""Detector training (staged Deep Watershed schedule) and fine-tuning.

Stages: class head alone, energy head alone, box head alone, energy again, then all three together with
each loss divided by its running mean. The backbone trains in every stage.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch.nn import functional as F

from ml.common.checkpoint import save_checkpoint
from ml.common.device import pick_device, seed_everything
from ml.common.finetuning import blend, freeze_norm_statistics, snapshot
from ml.common.schedule import TimeBudget, WarmupCosine
from ml.common.trainer import CallbackBase, Progress, TrainingCancelled, fit
from ml.omr.batches import crop_batches, prepare_pages
from ml.omr.config import DetectorConfig, preset
from ml.omr.data import Sample, synthetic_samples
from ml.omr.dwd import rare_classes
from ml.omr.model import DeepWatershed, count_parameters, load_model

STAGES = ("class", "energy", "box", "energy", "all")


def _noop(_: str) -> None:
    pass



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
            h = fit(model, crop_batches(prepared, cfg, device, seed + i), _step_fn(stage, means),
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
    prepared = prepare_pages(samples, cfg, class_index, rare, use_margin, seed, workers)
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
    prepared = prepare_pages(pool, cfg, class_index, conf.get("rare_classes", []), conf.get("use_margin", True), seed)
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
