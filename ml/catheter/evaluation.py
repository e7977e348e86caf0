"""Evaluation of a checkpoint on held-out samples: a JSON-serialisable dict with overall verdict metrics,
slices per defect type, optical set-up and defect contrast, boxes, the pointing game and the entropy flag's
FGSM figures; plots (``ml.catheter.plots``) where asked."""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ml.catheter import DEFECT_TYPES, SETUPS
from ml.catheter.adversarial import fgsm
from ml.catheter.data import Sample
from ml.catheter.plots import evaluation_plots
from ml.catheter.predict import Predictor
from ml.catheter.saliency import guided_backprop, pointing_hit, saliency_peak
from ml.common import metrics as M

CONTRAST_EDGES = (0.0, 4.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, float("inf"))   # grey levels


def recall_by_contrast(score: np.ndarray, labels: np.ndarray, contrast: np.ndarray, t90: float,
                       operating: float, edges: Sequence[float] = CONTRAST_EDGES) -> list[dict[str, Any]]:
    """Recall of defective images binned by contrast, at the precision-0.90 threshold ``t90`` of this set and
    at the checkpoint's operating threshold."""
    out = []
    pos = labels == 1
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = pos & np.isfinite(contrast) & (contrast >= lo) & (contrast < hi)
        if not sel.any():
            continue
        out.append({"lo": float(lo), "hi": float(hi) if np.isfinite(hi) else None, "n": int(sel.sum()),
                    "median_contrast": float(np.median(contrast[sel])),
                    "recall_at_p90_threshold": float((score[sel] >= t90).mean()) if np.isfinite(t90) else 0.0,
                    "recall_at_operating_threshold": float((score[sel] >= operating).mean())})
    return out


def evaluate(checkpoint: str | Path, samples: Sequence[Sample], device: str | torch.device | None = None,
             plots_dir: str | Path | None = None, adv_n: int = 200, epsilons: Sequence[int] = (2, 4, 8),
             pointing_n: int = 200, pointing_tol: float = 4.0, batch_size: int = 16,
             log: Callable[[str], None] = lambda s: None, return_scores: bool = False) -> dict[str, Any]:
    """Metrics of a checkpoint on ``samples`` (a held-out set): verdict (AUROC, AP, recall at precision 0.9,
    operating point, confusion), per-type, per-set-up and per-contrast slices (when the samples carry the
    generator's ``contrast``), boxes, pointing game, entropy flag vs FGSM. ``return_scores`` adds the
    per-image verdict scores."""
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
        res["plots"] = evaluation_plots(plots_dir, pred, samples, preds, score, yv, tn, fp, fn, tp)
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
