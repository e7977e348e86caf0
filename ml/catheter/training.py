"""Training and fine-tuning (with replay), driven through ml.common.trainer callbacks.

``train`` fits the CNN on Samples (made in memory or loaded from a directory), then calibrates on a
validation split (``ml.catheter.calibration``) and saves one checkpoint directory (model.safetensors +
config.json). ``finetune`` continues a checkpoint on new samples mixed with replay, then recalibrates.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ml.catheter.batches import Batches
from ml.catheter.calibration import calibrate_and_save
from ml.catheter.config import CatheterConfig, TrainConfig, preset
from ml.catheter.data import Prepared, Sample, prepare
from ml.catheter.model import build_model, count_parameters
from ml.common.checkpoint import load_config, load_weights
from ml.common.device import pick_device, seed_everything
from ml.common.finetuning import blend, freeze_norm_statistics, snapshot
from ml.common.schedule import TimeBudget, WarmupCosine
from ml.common.trainer import CallbackBase, TrainingCancelled, fit


# ------------------------------------------------------------------------------------------- losses
def _focal(logits: torch.Tensor, target: torch.Tensor, gamma: float) -> torch.Tensor:
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p = torch.sigmoid(logits)
    pt = p * target + (1 - p) * (1 - target)
    return bce * (1 - pt) ** gamma


def make_loss(tc: TrainConfig, pos_rate: np.ndarray) -> Callable:
    """Loss over the image-level type logits and the per-pixel map, with the configured imbalance handling."""
    pw = torch.tensor(np.clip((1 - pos_rate) / np.maximum(pos_rate, 1e-3), 1.0, 50.0), dtype=torch.float32)

    def loss_fn(out: dict[str, torch.Tensor], seg_t: torch.Tensor, y: torch.Tensor):
        il, sl = out["image_logits"].float(), out["seg_logits"].float()
        if tc.image_loss == "focal":
            li = _focal(il, y, tc.focal_gamma).sum(1).mean()
        elif tc.image_loss == "weighted":
            li = F.binary_cross_entropy_with_logits(il, y, pos_weight=pw.to(il.device))
        else:
            li = F.binary_cross_entropy_with_logits(il, y)
        npos = seg_t.sum().clamp(min=1.0)
        if tc.pixel_loss == "focal":
            lp = _focal(sl, seg_t, tc.focal_gamma).sum() / npos
        elif tc.pixel_loss == "weighted":
            lp = F.binary_cross_entropy_with_logits(sl, seg_t, pos_weight=torch.tensor(20.0, device=sl.device))
        else:
            lp = F.binary_cross_entropy_with_logits(sl, seg_t)
        return li + tc.pixel_weight * lp, {"image_loss": float(li.detach()), "pixel_loss": float(lp.detach())}

    return loss_fn


# --------------------------------------------------------------------------------------------- train
TRAINABLE = {"all": None, "decoder": ("lat.", "smooth.", "head."), "head": ("head.",)}


def restrict_trainable(model: torch.nn.Module, trainable: str) -> int:
    """Only the named part of the network trains (``TRAINABLE``); the rest keeps the parent's weights.
    Returns the number of trainable parameters."""
    if trainable not in TRAINABLE:
        raise ValueError(f"trainable: one of {sorted(TRAINABLE)}, not {trainable!r}")
    prefixes = TRAINABLE[trainable]
    for name, p in model.named_parameters():
        p.requires_grad_(prefixes is None or name.startswith(prefixes))
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def split_by_series(samples: Sequence[Sample], val_fraction: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Validation split that keeps each rotation series on one side."""
    keys = sorted({s.meta.get("series", s.meta.get("id", i)) for i, s in enumerate(samples)}, key=str)
    rng = np.random.default_rng(seed)
    val_keys = set(rng.permutation(np.array(keys, dtype=object))[: max(1, int(len(keys) * val_fraction))].tolist())
    tr, va = [], []
    for i, s in enumerate(samples):
        (va if s.meta.get("series", s.meta.get("id", i)) in val_keys else tr).append(s)
    return tr, va


def _run_fit(model, prep: Prepared, tc: TrainConfig, device, callbacks, epochs: int, lr: float, log,
             time_budget_s: float = 0.0, mine: bool = True, mine_first: Sequence[int] = ()
             ) -> tuple[list[dict], dict[str, Any]]:
    steps = tc.steps_per_epoch or max(1, len(prep) // tc.batch_size)
    batches = Batches(prep, tc, device, steps, seed=tc.seed, model=model if mine or len(mine_first) else None)
    batches.mine_on(np.asarray(mine_first, dtype=int))
    if not mine:
        batches.model = None   # the spots mined above stay; no more mining during the run
    pos_rate = prep.labels.mean(0)
    loss_fn = make_loss(tc, pos_rate)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=tc.weight_decay)
    budget = TimeBudget(time_budget_s)
    sched = WarmupCosine(opt, lr, epochs * steps, budget, warmup=0.08, start=0.1, floor=0.02)
    history: list[dict] = []
    done = {"steps": 0}

    def step_fn(m, batch):
        x, seg_t, y = batch
        return loss_fn(m(x), seg_t, y)

    class _Log(CallbackBase):
        def on_step(self, progress):
            done["steps"] = progress.step

        def on_epoch_end(self, epoch, logs):
            history.append(logs)
            log(f"epoch {epoch + 1}/{epochs} step {done['steps']} " + " ".join(f"{k}={v:.4f}" for k, v in logs.items()))

    t0 = time.perf_counter()
    try:
        fit(model, batches, step_fn, epochs=epochs, steps_per_epoch=steps, optimizer=opt, device=device,
            callbacks=[*callbacks, _Log(), budget], scheduler=sched)
    except TrainingCancelled:
        if not budget.hit:
            raise
        log(f"time budget of {time_budget_s:.0f}s reached after {done['steps']} steps")
    model.eval()
    info = {"steps": done["steps"], "planned_steps": epochs * steps, "batch_size": tc.batch_size,
            "seconds": round(time.perf_counter() - t0, 1), "budget_stop": budget.hit}
    return history, info


def train(samples: Sequence[Sample], out: str | Path, *, config: CatheterConfig | None = None,
          val_samples: Sequence[Sample] | None = None, callbacks: Iterable[CallbackBase] = (),
          device: str | torch.device | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train from scratch on ``samples`` (Sample objects, e.g. built in memory from corrections); calibrate on
    ``val_samples`` (default: 15% of the series of ``samples``); save a checkpoint to ``out``."""
    dev = pick_device(str(device) if device else None)
    cfg = config or preset()
    seed_everything(cfg.train.seed)
    if val_samples is None:
        samples, val_samples = split_by_series(samples, 0.15, cfg.train.seed)
    t0 = time.perf_counter()
    prep = prepare(samples, cfg.model.input_size)
    log(f"prepared {len(prep)} training samples ({int((prep.labels.max(1) > 0).sum())} defective) "
        f"in {time.perf_counter() - t0:.1f}s")
    model = build_model(cfg.model).to(dev)
    t1 = time.perf_counter()
    history, info = _run_fit(model, prep, cfg.train, dev, callbacks, cfg.train.epochs, cfg.train.lr, log,
                             cfg.train.time_budget_s)
    train_s = time.perf_counter() - t1
    return calibrate_and_save(model, cfg, val_samples, out, dev, log,
                              {"history": history, "n_train": len(prep), "train_seconds": round(train_s, 1),
                               "parameters": count_parameters(model), "mode": "train", **info})


def finetune(from_checkpoint: str | Path, samples: Sequence[Sample], replay_samples: Sequence[Sample],
             out: str | Path, *, steps: int | None = None, callbacks: Iterable[CallbackBase] = (),
             val_samples: Sequence[Sample] | None = None, epochs: int | None = None, lr: float | None = None,
             freeze_norm: bool | None = None, alpha: float | None = None, trainable: str | None = None,
             hard_negatives: bool | None = None, replay_ratio: float | None = None,
             device: str | torch.device | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Continue training a checkpoint on new samples mixed with a replay sample of earlier data (at most
    ``replay_ratio`` replay samples per new one), at a lower learning rate; recalibrate and save to ``out``.
    Length: exactly ``steps`` optimiser steps when given (the one meaning of ``steps`` in every kind's
    finetune), else ``epochs`` (default ``finetune_epochs``) over the mixed set.
    ``lr``, ``freeze_norm`` (batch norm keeps the champion's statistics), ``alpha`` (WiSE-FT: the saved
    weights are ``(1 - alpha) * champion + alpha * fine-tuned``), ``trainable`` (which layers train:
    ``TRAINABLE``) and ``hard_negatives`` (crops of the new OK shots centred where the parent fires most: the
    look-alikes an operator just cleared) default to the config's ``finetune_*``; ``replay_ratio`` to its own.
    Calibration uses ``val_samples``; pass a held-out set (e.g. a calibration split of the scope's golden set).
    Without one it falls back to the replay pool (or the new samples), which are partly trained on, so the
    thresholds are then optimistic."""
    dev = pick_device(str(device) if device else None)
    meta = load_config(from_checkpoint)
    cfg = CatheterConfig.from_dict(meta["config"])
    seed_everything(cfg.train.seed + 1)
    rng = np.random.default_rng(cfg.train.seed + 7)
    replay = list(replay_samples)
    ratio = cfg.train.replay_ratio if replay_ratio is None else replay_ratio
    n_replay = min(len(replay), int(math.ceil(ratio * max(1, len(samples)))))
    if n_replay < len(replay):
        replay = [replay[i] for i in rng.choice(len(replay), n_replay, replace=False)]
    mixed = list(samples) + replay
    if val_samples is None:
        val_samples = list(replay_samples) if replay_samples else list(samples)
    model = build_model(cfg.model)
    load_weights(from_checkpoint, model)
    model.to(dev)
    champion_state = snapshot(model)
    prep = prepare(mixed, cfg.model.input_size)
    log(f"fine-tuning on {len(samples)} new + {len(replay)} replay samples")
    tc = cfg.train
    lr = tc.finetune_lr if lr is None else lr
    freeze_norm = tc.finetune_freeze_norm if freeze_norm is None else freeze_norm
    alpha = tc.finetune_alpha if alpha is None else alpha
    trainable = tc.finetune_trainable if trainable is None else trainable
    hard_negatives = tc.finetune_hard_negatives if hard_negatives is None else hard_negatives
    if freeze_norm:
        freeze_norm_statistics(model)
    restrict_trainable(model, trainable)
    # The new OK shots (the first of the mixed set): where the parent fires on them is what was just corrected.
    new_ok = [i for i in range(len(samples)) if not prep.labels[i].any()] if hard_negatives else []
    bs = min(tc.batch_size, max(1, len(prep)))
    if steps:   # exactly this many steps: one "epoch" of them (batches cycle through the mixed set)
        tc_ft, ep = TrainConfig(**{**tc.__dict__, "batch_size": bs, "steps_per_epoch": int(steps)}), 1
    else:
        tc_ft = TrainConfig(**{**tc.__dict__, "batch_size": bs, "steps_per_epoch": max(1, len(prep) // bs)})
        ep = epochs or tc.finetune_epochs
    # No mining here: a fine-tuning's epochs are a few steps each, a mining pass would cost more than they do.
    if new_ok:
        tc_ft = TrainConfig(**{**tc_ft.__dict__, "hard_negatives": max(tc_ft.hard_negatives, 0.5)})
    history, info = _run_fit(model, prep, tc_ft, dev, callbacks, ep, lr, log, mine=False, mine_first=new_ok)
    blend(model, champion_state, alpha)
    if alpha < 1.0:
        log(f"weights: {alpha:g} fine-tuned + {1 - alpha:g} champion (WiSE-FT)")
    return calibrate_and_save(model, cfg, val_samples, out, dev, log,
                              {"history": history, **info, "n_train": len(prep), "parent": str(from_checkpoint),
                               "parameters": count_parameters(model), "mode": "finetune", "lr": lr,
                               "freeze_norm": bool(freeze_norm), "alpha": float(alpha), "trainable": trainable,
                               "hard_negatives": len(new_ok), "replay_ratio": float(ratio)})

