"""Detector evaluation: mAP@0.5 of the frequent classes, recall of the rare ones, per slice and per class."""
from __future__ import annotations

import time
from pathlib import Path

import torch

from ml.omr.data import Sample
from ml.omr.dwd import match_detections, mean_average_precision
from ml.omr.predict import Predictor


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
