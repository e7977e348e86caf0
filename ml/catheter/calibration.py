"""Calibration of a trained model on validation samples: the verdict threshold (recall-first), per-type
thresholds, the entropy flag's objective and threshold (a high percentile of clean validation entropies);
then the checkpoint is saved with them."""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import torch

from ml.catheter import DEFECT_TYPES
from ml.catheter.adversarial import fgsm
from ml.catheter.config import CatheterConfig
from ml.catheter.predict import Predictor
from ml.common import metrics as M
from ml.common.checkpoint import save_checkpoint

VERDICT_RECALL = 0.97    # calibration: the highest verdict threshold keeping this validation recall
TYPE_RECALL = 0.95


def calibrate_and_save(model, cfg: CatheterConfig, val_samples, out, dev, log, info) -> dict[str, Any]:
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


