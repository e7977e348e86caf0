"""Training, fine-tuning (with replay) and evaluation, driven through ml.common.trainer callbacks.

``train`` fits the CNN on Samples (made in memory or loaded from a directory), then calibrates on a
validation split: the verdict threshold (recall-first), per-type thresholds, and the entropy-flag
threshold (a high percentile of clean validation entropies). Everything lands in one checkpoint
directory (model.safetensors + config.json). ``evaluate`` returns a JSON-serialisable dict with overall
metrics and slices per defect type and optical set-up, the pointing game and the flag's FGSM figures.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ml.catheter import DEFECT_TYPES, SETUPS
from ml.catheter.adversarial import fgsm
from ml.catheter.augment import AugmentationPolicy
from ml.catheter.config import CatheterConfig, TrainConfig, preset
from ml.catheter.data import Prepared, Sample, prepare
from ml.catheter.model import build_model, count_parameters
from ml.catheter.saliency import guided_backprop, pointing_hit, saliency_peak
from ml.common import metrics as M
from ml.common.checkpoint import load_config, load_weights, save_checkpoint
from ml.common.device import pick_device, seed_everything
from ml.common.finetuning import blend, freeze_norm_statistics, snapshot
from ml.common.schedule import TimeBudget, WarmupCosine
from ml.common.trainer import CallbackBase, TrainingCancelled, fit

VERDICT_RECALL = 0.97    # calibration: the highest verdict threshold keeping this validation recall
TYPE_RECALL = 0.95


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


# ------------------------------------------------------------------------------------------ batches
class Batches:
    """Augmented batches drawn from Prepared data: uniform permutation, or defect oversampling."""

    def __init__(self, prep: Prepared, tc: TrainConfig, device: torch.device, steps: int,
                 policy: AugmentationPolicy | None = None, seed: int = 0, model: torch.nn.Module | None = None):
        self.prep, self.tc, self.device, self.steps = prep, tc, device, steps
        self.policy = policy or AugmentationPolicy()
        self.seed = seed
        self.pos = np.nonzero(prep.labels.max(1) > 0)[0]
        self.neg = np.nonzero(prep.labels.max(1) == 0)[0]
        self.model = model                              # the model being trained: mines hard negatives
        self.spots: dict[int, tuple[int, int]] = {}     # OK shot -> where the model last fired most on it

    def indices(self, epoch: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, epoch, 11])
        n = self.steps * self.tc.batch_size
        if self.tc.oversample > 0 and len(self.pos) and len(self.neg):
            take_pos = rng.random(n) < self.tc.oversample
            return np.where(take_pos, rng.choice(self.pos, n), rng.choice(self.neg, n))
        reps = math.ceil(n / len(self.prep))
        return np.concatenate([rng.permutation(len(self.prep)) for _ in range(reps)])[:n]

    def mine(self, epoch: int) -> None:
        """Hard negatives: where the model being trained fires most on a few OK shots (``mine_per_epoch`` of
        them, a new draw each epoch). Look-alikes away from the balloon band (a ring or speck on the background)
        are rarely inside a random crop, so without this the model never learns that they are harmless."""
        tc = self.tc
        if self.model is None or tc.hard_negatives <= 0 or not tc.crop or epoch == 0 or not len(self.neg):
            return
        rng = np.random.default_rng([self.seed, epoch, 17])
        pick = rng.choice(self.neg, min(tc.mine_per_epoch, len(self.neg)), replace=False)
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            for j in range(0, len(pick), 16):
                idx = pick[j:j + 16]
                x = torch.from_numpy(self.prep.images[idx]).permute(0, 3, 1, 2).float().div_(255.0)
                seg = self.model(x.to(self.device))["seg_logits"].amax(1)       # B x h x w, any type
                h, w = seg.shape[-2:]
                scale = self.prep.images.shape[1] / h
                for i, f in zip(idx.tolist(), seg.flatten(1).argmax(1).tolist()):
                    self.spots[i] = (int((f // w + 0.5) * scale), int((f % w + 0.5) * scale))
        self.model.train(was_training)

    def _crop(self, i: int, rng: np.random.Generator):
        """A training crop of sample ``i``: near a defect (``crop_on_defect`` of defective images); on an OK
        shot, on the model's own strongest false alarm (``hard_negatives`` of those mined); else mostly on the
        balloon band (walls, highlights, folds), sometimes anywhere. Whole image when crop is 0."""
        image, masks = self.prep.images[i], self.prep.masks(i)
        c = self.tc.crop
        h, w = image.shape[:2]
        if not c or c >= min(h, w):
            return image, masks
        y0, x0 = self._window(i, masks, rng)
        return image[y0:y0 + c, x0:x0 + c], masks[:, y0:y0 + c, x0:x0 + c]

    def _window(self, i: int, masks: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
        """Top-left corner of the crop of sample ``i`` (see ``_crop``)."""
        c = self.tc.crop
        h, w = masks.shape[1:]
        union = masks.any(0)
        if union.any() and rng.random() < self.tc.crop_on_defect:
            ys, xs = np.nonzero(union)
            j = int(rng.integers(len(ys)))
            cy = ys[j] + int(rng.integers(-c // 2 + 6, c // 2 - 6))
            cx = xs[j] + int(rng.integers(-c // 2 + 6, c // 2 - 6))
        elif i in self.spots and rng.random() < self.tc.hard_negatives:
            cy, cx = (v + int(rng.integers(-c // 4, c // 4 + 1)) for v in self.spots[i])
        elif rng.random() < 0.85:
            cy, cx = int(rng.uniform(0.3, 0.7) * h), int(rng.uniform(0, w))
        else:
            cy, cx = int(rng.uniform(0, h)), int(rng.uniform(0, w))
        return int(np.clip(cy - c // 2, 0, h - c)), int(np.clip(cx - c // 2, 0, w - c))

    def __call__(self, epoch: int):
        self.mine(epoch)
        idx = self.indices(epoch)
        rng = np.random.default_rng([self.seed, epoch, 13])
        bs = self.tc.batch_size
        for s in range(self.steps):
            imgs, masks = [], []
            for i in idx[s * bs:(s + 1) * bs]:
                im, m = self._crop(int(i), rng)
                im, m, _ = self.policy(im, m, rng)
                imgs.append(im)
                masks.append(m)
            x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float().div_(255.0)
            m = torch.from_numpy(np.stack(masks)).float()
            seg_t = F.max_pool2d(m, 2)                  # map is at 1/2 working resolution; thin lines survive
            y = seg_t.flatten(2).amax(2)                 # image labels follow the (augmented) masks
            yield x.to(self.device), seg_t.to(self.device), y.to(self.device)


# --------------------------------------------------------------------------------------------- train
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
             time_budget_s: float = 0.0, mine: bool = True) -> tuple[list[dict], dict[str, Any]]:
    steps = tc.steps_per_epoch or max(1, len(prep) // tc.batch_size)
    batches = Batches(prep, tc, device, steps, seed=tc.seed, model=model if mine else None)
    pos_rate = prep.labels.mean(0)
    loss_fn = make_loss(tc, pos_rate)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=tc.weight_decay)
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
    return _calibrate_and_save(model, cfg, val_samples, out, dev, log,
                               {"history": history, "n_train": len(prep), "train_seconds": round(train_s, 1),
                                "parameters": count_parameters(model), "mode": "train", **info})


def finetune(from_checkpoint: str | Path, samples: Sequence[Sample], replay_samples: Sequence[Sample],
             out: str | Path, *, steps: int | None = None, callbacks: Iterable[CallbackBase] = (),
             val_samples: Sequence[Sample] | None = None, epochs: int | None = None, lr: float | None = None,
             freeze_norm: bool | None = None, alpha: float | None = None,
             device: str | torch.device | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Continue training a checkpoint on new samples mixed with a replay sample of earlier data (at most
    ``replay_ratio`` replay samples per new one), at a lower learning rate; recalibrate and save to ``out``.
    Length: exactly ``steps`` optimiser steps when given (the one meaning of ``steps`` in every kind's
    finetune), else ``epochs`` (default ``finetune_epochs``) over the mixed set.
    ``lr``, ``freeze_norm`` (batch norm keeps the champion's statistics) and ``alpha`` (WiSE-FT: the saved
    weights are ``(1 - alpha) * champion + alpha * fine-tuned``) default to the config's ``finetune_*``.
    Calibration uses ``val_samples``; pass a held-out set (e.g. a calibration split of the scope's golden set).
    Without one it falls back to the replay pool (or the new samples), which are partly trained on, so the
    thresholds are then optimistic."""
    dev = pick_device(str(device) if device else None)
    meta = load_config(from_checkpoint)
    cfg = CatheterConfig.from_dict(meta["config"])
    seed_everything(cfg.train.seed + 1)
    rng = np.random.default_rng(cfg.train.seed + 7)
    replay = list(replay_samples)
    n_replay = min(len(replay), int(math.ceil(cfg.train.replay_ratio * max(1, len(samples)))))
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
    if freeze_norm:
        freeze_norm_statistics(model)
    bs = min(tc.batch_size, max(1, len(prep)))
    if steps:   # exactly this many steps: one "epoch" of them (batches cycle through the mixed set)
        tc_ft, ep = TrainConfig(**{**tc.__dict__, "batch_size": bs, "steps_per_epoch": int(steps)}), 1
    else:
        tc_ft = TrainConfig(**{**tc.__dict__, "batch_size": bs, "steps_per_epoch": max(1, len(prep) // bs)})
        ep = epochs or tc.finetune_epochs
    # No mining here: a fine-tuning's epochs are a few steps each, a mining pass would cost more than they do.
    history, info = _run_fit(model, prep, tc_ft, dev, callbacks, ep, lr, log, mine=False)
    blend(model, champion_state, alpha)
    if alpha < 1.0:
        log(f"weights: {alpha:g} fine-tuned + {1 - alpha:g} champion (WiSE-FT)")
    return _calibrate_and_save(model, cfg, val_samples, out, dev, log,
                               {"history": history, **info, "n_train": len(prep), "parent": str(from_checkpoint),
                                "parameters": count_parameters(model), "mode": "finetune", "lr": lr,
                                "freeze_norm": bool(freeze_norm), "alpha": float(alpha)})


def _calibrate_and_save(model, cfg: CatheterConfig, val_samples, out, dev, log, info) -> dict[str, Any]:
    from ml.catheter.predict import Predictor

    meta = {"kind": "catheter", "config": cfg.to_dict(), "thresholds": {"verdict": 0.5, "pixel": 0.3,
            "types": {t: 0.5 for t in DEFECT_TYPES}}, "flag": {"threshold": math.inf, "objective": "verdict"},
            "train": info}
    pred = Predictor(model.eval(), cfg, meta, dev)
    val = list(val_samples or [])
    if val:
        objective = cfg.flag.objective
        if objective == "auto":
            aucs = {o: _fgsm_auroc(pred, val[:cfg.flag.select_n], o, cfg.flag.select_eps) for o in ("verdict", "map")}
            objective = max(aucs, key=aucs.get)
            meta["flag"]["selection_auroc_val"] = aucs
            log(f"entropy-flag objective: {objective} (validation FGSM {cfg.flag.select_eps:g}/255 AUROC {aucs})")
        meta["flag"]["objective"] = pred.flag_objective = objective
        probs, ents = [], []
        for i in range(0, len(val), 32):
            x = pred.preprocess([s.image for s in val[i:i + 32]])
            p, _, _, e = pred.forward_with_saliency(x)
            probs.append(p.cpu().numpy())
            ents.append(e.cpu().numpy())
        probs, ents = np.concatenate(probs), np.concatenate(ents)
        y = np.stack([s.labels for s in val])
        meta["thresholds"]["verdict"] = _recall_threshold(probs.max(1), y.max(1), VERDICT_RECALL)
        for k, t in enumerate(DEFECT_TYPES):
            meta["thresholds"]["types"][t] = _recall_threshold(probs[:, k], y[:, k], TYPE_RECALL)
        meta["flag"]["threshold"] = float(np.percentile(ents, cfg.flag.percentile))
        meta["flag"]["clean_val_entropy"] = {"mean": float(ents.mean()), "std": float(ents.std())}
        meta["validation"] = {"n": len(val), "verdict_auroc": M.auroc(probs.max(1), y.max(1)),
                              "verdict_ap": M.average_precision(probs.max(1), y.max(1)),
                              "verdict_recall_at_p90": M.recall_at_precision(probs.max(1), y.max(1), 0.9)[0]}
        log(f"calibrated on {len(val)} validation samples: {json.dumps(meta['validation'])} "
            f"verdict threshold={meta['thresholds']['verdict']:.4f} flag threshold={meta['flag']['threshold']:.4f}")
    save_checkpoint(out, model, meta)
    return meta


def _fgsm_auroc(pred, samples, objective: str, eps: float) -> float:
    clean, adv = [], []
    for i in range(0, len(samples), 16):
        chunk = samples[i:i + 16]
        x = pred.preprocess([s.image for s in chunk])
        y = torch.from_numpy(np.stack([s.labels for s in chunk])).to(x.device)
        clean.append(pred.forward_with_saliency(x, objective)[3].cpu().numpy())
        adv.append(pred.forward_with_saliency(fgsm(pred.model, x, y, eps / 255.0), objective)[3].cpu().numpy())
    c, a = np.concatenate(clean), np.concatenate(adv)
    return float(M.auroc(np.r_[a, c], np.r_[np.ones(len(a)), np.zeros(len(c))]))


def _recall_threshold(scores: np.ndarray, labels: np.ndarray, recall: float) -> float:
    """Highest threshold whose recall on (scores, labels) is at least ``recall`` (0.5 without positives)."""
    pos = np.sort(scores[labels > 0])
    if len(pos) == 0:
        return 0.5
    k = int(math.floor((1 - recall) * len(pos)))     # may miss k positives
    return float(max(1e-4, pos[k] - 1e-6))


# ------------------------------------------------------------------------------------------ evaluate
def evaluate(checkpoint: str | Path, samples: Sequence[Sample], device: str | torch.device | None = None,
             plots_dir: str | Path | None = None, adv_n: int = 200, epsilons: Sequence[int] = (2, 4, 8),
             pointing_n: int = 200, pointing_tol: float = 4.0, batch_size: int = 16,
             log: Callable[[str], None] = lambda s: None, return_scores: bool = False) -> dict[str, Any]:
    """Metrics of a checkpoint on ``samples`` (a held-out set): verdict (AUROC, AP, recall at precision 0.9,
    operating point, confusion), per-type, per-set-up and per-contrast slices (when the samples carry the
    generator's ``contrast``), boxes, pointing game, entropy flag vs FGSM. ``return_scores`` adds the
    per-image verdict scores."""
    from ml.catheter.predict import Predictor

    pred = Predictor.load(checkpoint, device=device)
    samples = list(samples)
    t0 = time.perf_counter()
    preds = pred.predict([s.image for s in samples], batch_size=batch_size)
    infer_s = time.perf_counter() - t0
    y = np.stack([s.labels for s in samples])
    yv = y.max(1).astype(int)
    score = np.array([p.score for p in preds])
    tprobs = np.array([[p.scores[t] for t in DEFECT_TYPES] for p in preds])
    flagged = np.array([p.flagged for p in preds])
    yhat = (score >= pred.verdict_threshold).astype(int)
    r90, t90 = M.recall_at_precision(score, yv, 0.9)
    tp, fp = int(((yhat == 1) & (yv == 1)).sum()), int(((yhat == 1) & (yv == 0)).sum())
    fn, tn = int(((yhat == 0) & (yv == 1)).sum()), int(((yhat == 0) & (yv == 0)).sum())
    res: dict[str, Any] = {
        "n": len(samples), "n_defective": int(yv.sum()), "checkpoint": str(checkpoint),
        "inference_seconds": round(infer_s, 2),
        "verdict": {"auroc": M.auroc(score, yv), "average_precision": M.average_precision(score, yv),
                    "recall_at_precision_0.90": r90, "threshold_at_precision_0.90": t90,
                    "operating_threshold": pred.verdict_threshold,
                    "precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn),
                    "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp}},
    }
    # slices: defect type (recall of images that contain the type, at the operating threshold and at P=0.9)
    by_type = {}
    for k, t in enumerate(DEFECT_TYPES):
        has = y[:, k] > 0
        by_type[t] = {"n": int(has.sum()),
                      "verdict_recall": float(yhat[has].mean()) if has.any() else None,
                      "verdict_recall_at_p90_threshold": float((score[has] >= t90).mean()) if has.any() else None,
                      "type_ap": M.average_precision(tprobs[:, k], y[:, k]) if has.any() else None,
                      "type_recall": float((tprobs[has, k] >= pred.type_thresholds[t]).mean()) if has.any() else None}
    res["by_type"] = by_type
    by_setup = {}
    for s_name in SETUPS:
        sel = np.array([s.meta.get("setup") == s_name for s in samples])
        if sel.any():
            ys, yh = yv[sel], yhat[sel]
            by_setup[s_name] = {"n": int(sel.sum()), "n_defective": int(ys.sum()),
                                "recall": float(yh[ys == 1].mean()) if ys.any() else None,
                                "precision": float(ys[yh == 1].mean()) if yh.any() else None,
                                "auroc": M.auroc(score[sel], ys) if 0 < ys.sum() < len(ys) else None}
    res["by_setup"] = by_setup
    contrast = np.array([s.meta.get("contrast") if s.meta.get("contrast") is not None else np.nan for s in samples],
                        float)
    if np.isfinite(contrast).any():
        from ml.catheter.difficulty import recall_by_contrast

        res["by_contrast"] = recall_by_contrast(score, yv, contrast, t90, pred.verdict_threshold)
    if return_scores:
        res["scores"] = [float(v) for v in score]
    # One record per sample, so that two checkpoints can be compared item by item (paired intervals,
    # the samples where they disagree, precision-recall curves).
    res["per_sample"] = [{"id": s.meta.get("id"), "setup": s.meta.get("setup"), "label": int(yv[i]),
                          "score": float(score[i]), "predicted": int(yhat[i]),
                          "types": [t for k, t in enumerate(DEFECT_TYPES) if y[i, k] > 0]}
                         for i, s in enumerate(samples)]
    res["boxes"] = _box_metrics(samples, preds)
    res["pointing_game"] = _pointing_game(pred, samples, pointing_n, pointing_tol)
    res["flag"] = _flag_metrics(pred, samples, flagged, adv_n, epsilons, log)
    if plots_dir:
        res["plots"] = _plots(plots_dir, pred, samples, preds, score, yv, tn, fp, fn, tp)
    return _clean(res)


def _box_metrics(samples, preds, iou_min: float = 0.1) -> dict[str, Any]:
    """Defect-level matching (same type, IoU >= iou_min, Hungarian) between predicted and true boxes."""
    n_gt = n_pred = n_match = 0
    per_type = {t: [0, 0] for t in DEFECT_TYPES}  # matched, total gt
    for s, p in zip(samples, preds):
        gt = s.defects
        pb = p.boxes
        n_gt += len(gt)
        n_pred += len(pb)
        for d in gt:
            per_type[d["type"]][1] += 1
        if not gt or not pb:
            continue
        iou = M.box_iou(np.array([d["box"] for d in gt], float), np.array([[b.x0, b.y0, b.x1, b.y1] for b in pb]))
        same = np.array([[d["type"] == b.type for b in pb] for d in gt])
        cost = np.where(same, 1 - iou, np.inf)
        for i, j in M.hungarian_match(cost, 1 - iou_min):
            n_match += 1
            per_type[gt[i]["type"]][0] += 1
    return {"iou_min": iou_min, "recall": n_match / max(1, n_gt), "precision": n_match / max(1, n_pred),
            "n_true": n_gt, "n_predicted": n_pred,
            "recall_by_type": {t: (m / g if g else None) for t, (m, g) in per_type.items()}}


def pointing_game(pred, samples: Sequence[Sample], n: int = 200, tol: float = 4.0) -> dict[str, Any]:
    return _pointing_game(pred, samples, n, tol)


def _pointing_game(pred, samples, n: int, tol: float) -> dict[str, Any]:
    """For each (defective image, defect type present): is the peak of the guided-backprop saliency of that
    type's score inside a true box of that type (tolerance ``tol`` original pixels)? Also per defect type."""
    items = [(s, DEFECT_TYPES.index(t)) for s in samples for t in sorted({d["type"] for d in s.defects})][:n]
    hits, per = [], {t: [] for t in DEFECT_TYPES}
    for i in range(0, len(items), 16):
        chunk = items[i:i + 16]
        x = pred.preprocess([s.image for s, _ in chunk])
        sal = guided_backprop(pred.model, x, torch.tensor([k for _, k in chunk], device=x.device)).cpu().numpy()
        for (s, k), m in zip(chunk, sal):
            h, w = s.image.shape[:2]
            px, py = saliency_peak(m)
            peak = ((px + 0.5) * w / m.shape[1], (py + 0.5) * h / m.shape[0])
            hit = pointing_hit(peak, [d["box"] for d in s.defects if d["type"] == DEFECT_TYPES[k]], tol)
            hits.append(hit)
            per[DEFECT_TYPES[k]].append(hit)
    return {"score": float(np.mean(hits)) if hits else None, "n": len(hits), "tolerance_px": tol,
            "by_type": {t: (float(np.mean(v)) if v else None) for t, v in per.items()}}


def _flag_metrics(pred, samples, flagged_clean: np.ndarray, adv_n: int, epsilons, log) -> dict[str, Any]:
    """False-flag rate on all clean images; on ``adv_n`` images: entropy AUROC clean vs FGSM(eps/255), share
    of attacked images flagged, and how often the attack flipped the verdict."""
    res: dict[str, Any] = {"threshold": pred.flag_threshold, "objective": pred.flag_objective,
                           "false_flag_rate_clean": float(flagged_clean.mean()), "n_clean": len(samples)}
    sub = samples[:adv_n]
    if not sub:   # no attack asked for: the clean false-flag rate only
        return res
    clean_e, clean_v = [], []
    adv = {e: ([], []) for e in epsilons}
    for i in range(0, len(sub), 16):
        chunk = sub[i:i + 16]
        x = pred.preprocess([s.image for s in chunk])
        y = torch.from_numpy(np.stack([s.labels for s in chunk])).to(x.device)
        p, _, _, e = pred.forward_with_saliency(x)
        clean_e.append(e.cpu().numpy())
        clean_v.append((p.max(1).values >= pred.verdict_threshold).cpu().numpy())
        for eps in epsilons:
            xa = fgsm(pred.model, x, y, eps / 255.0)
            pa, _, _, ea = pred.forward_with_saliency(xa)
            adv[eps][0].append(ea.cpu().numpy())
            adv[eps][1].append((pa.max(1).values >= pred.verdict_threshold).cpu().numpy())
    clean_e, clean_v = np.concatenate(clean_e), np.concatenate(clean_v)
    res["n_attacked"] = len(sub)
    res["clean_entropy_mean"] = float(clean_e.mean())
    res["fgsm"] = {}
    for eps in epsilons:
        ea, va = np.concatenate(adv[eps][0]), np.concatenate(adv[eps][1])
        res["fgsm"][f"{eps}/255"] = {
            "auroc": M.auroc(np.r_[ea, clean_e], np.r_[np.ones(len(ea)), np.zeros(len(clean_e))]),
            "flagged_rate": float((ea > pred.flag_threshold).mean()),
            "verdict_flip_rate": float((va != clean_v).mean()), "entropy_mean": float(ea.mean())}
        log(f"FGSM eps={eps}/255: {res['fgsm'][f'{eps}/255']}")
    return res


def _plots(plots_dir, pred, samples, preds, score, yv, tn, fp, fn, tp) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ml.catheter.saliency import save_overlay

    d = Path(plots_dir)
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    p, r, _ = M.precision_recall_curve(score, yv)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(r, p)
    ax.axhline(0.9, ls="--", c="gray")
    ax.axvline(0.95, ls="--", c="gray")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("defect vs OK")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.01)
    fig.tight_layout()
    fig.savefig(d / "pr_curve.png", dpi=90)
    plt.close(fig)
    out["pr_curve"] = str(d / "pr_curve.png")
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    cm = np.array([[tn, fp], [fn, tp]])
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center")
    ax.set_xticks([0, 1], ["ok", "defect"])
    ax.set_yticks([0, 1], ["ok", "defect"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.tight_layout()
    fig.savefig(d / "confusion.png", dpi=90)
    plt.close(fig)
    out["confusion"] = str(d / "confusion.png")
    shown = [s for s in samples if s.is_defect][:6]
    if shown:
        ps = pred.predict([s.image for s in shown], saliency=True)
        for i, (s, pp) in enumerate(zip(shown, ps)):
            path = d / f"saliency_{i}.png"
            save_overlay(path, s.image, pp.saliency, boxes=[dd["box"] for dd in s.defects])
            out[f"saliency_{i}"] = str(path)
    return out


def _clean(o):
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, (np.floating, float)):
        v = float(o)
        return None if math.isnan(v) else (v if math.isfinite(v) else (1e308 if v > 0 else -1e308))
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return o
