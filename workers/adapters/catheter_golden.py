"""The catheter gate's per-item figure: how much of the proposal an operator would keep.

Verdict recall alone cannot tell two models apart on a new set-up where both call every balloon defective
(recall 1.0 each), yet one of them proposes a dozen spurious boxes per balloon and the other a few: the
operator feels the boxes. So each golden balloon is scored on the proposal the worker would show — the
balloon verdict on the series score where the checkpoint is calibrated on series, the boxes of the shots
called defective — against its accepted truth: per shot, matched boxes / (true + proposed − matched)
(same type, IoU ≥ ``IOU_MIN``, one-to-one; 1.0 for a shot with neither), averaged over the balloon's shots.
A missed defect, a spurious box and an OK shot called defective each lower it, so it falls where recall
falls and rises where the operator's edits go down.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

IOU_MIN = 0.1   # the box matching of ml.catheter's own box metrics


def shot_agreement(proposed: list[dict], truth: list[dict]) -> float:
    """Matched / (true + proposed - matched) for one shot's boxes; 1.0 when both are empty."""
    from ml.common import metrics as M

    if not proposed and not truth:
        return 1.0
    matched = 0
    if proposed and truth:
        iou = M.box_iou(np.array([d["box"] for d in truth], float), np.array([d["box"] for d in proposed], float))
        same = np.array([[t["type"] == p["type"] for p in proposed] for t in truth])
        matched = len(M.hungarian_match(np.where(same, 1 - iou, np.inf), 1 - IOU_MIN))
    return matched / (len(truth) + len(proposed) - matched)


def balloons(samples: list[Any]) -> dict[int, list[Any]]:
    """Real items' shots by item id (``meta['id']`` ``item<pk>``), in shot order; generated samples are left out."""
    out: dict[int, list[Any]] = {}
    for sample in samples:
        ident = str(sample.meta.get("id") or "")
        if ident.startswith("item") and ident[4:].isdigit():
            out.setdefault(int(ident[4:]), []).append(sample)
    for shots in out.values():
        shots.sort(key=lambda s: s.meta.get("shot", 0))
    return out


def golden_proposals(artifact_dir: Path, samples: list[Any], device: str) -> dict[int, dict[str, float]]:
    """Per golden item (samples whose ``meta['id']`` is ``item<pk>``): ``agreement`` (above) and ``score``,
    the balloon score the verdict is taken on (the series score, else the highest shot score)."""
    from ml.catheter.predict import Predictor
    from ml.catheter.series import series_scores

    predictor = Predictor.load(artifact_dir, device=device)
    out = {}
    for item, series in balloons(samples).items():
        preds = predictor.predict([s.image for s in series])
        point = predictor.series_point(len(preds))
        if point is not None:
            moved = series_scores(np.array([p.score for p in preds]), np.stack([p.defect_map for p in preds]))
            called, score = [float(m) >= point["threshold"] for m in moved], float(moved.max())
        else:
            called, score = [p.verdict == "defect" for p in preds], max(p.score for p in preds)
        values = [shot_agreement(predictor.defect_shot(p)["defects"] if c else [], s.defects)
                  for p, c, s in zip(preds, called, series)]
        out[item] = {"agreement": float(np.mean(values)), "score": score}
    return out
