"""The catheter recall bar at `realistic` difficulty: train model variants side by side on one training set
and score each on one held-out set (forward only; the verdict score is the highest type probability, as
``Predictor``). Each variant changes one thing against the `cpu` preset, so the table is an ablation.

    python -m ml.catheter synth --out TRAIN --n 2400 --seed 1 --label-noise 0.05
    python -m ml.catheter synth --out TEST --n 600 --seed 2
    python bench/catheter_recall_bar.py --train TRAIN --test TEST --out DIR [--budget 720]
                                        [--variants cpu+no-ohem,fullres+no-ohem,fullres,cpu] [--json F]

Every variant trains under the same wall-clock budget (``--budget``), so on a shared machine compare the
steps each reached as well as its figures.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.catheter import DEFECT_TYPES  # noqa: E402
from ml.catheter.config import CatheterConfig, preset  # noqa: E402
from ml.catheter.data import load_dir  # noqa: E402
from ml.catheter.training import train  # noqa: E402
from ml.catheter.predict import Predictor  # noqa: E402
from ml.common import metrics as M  # noqa: E402


def _variant(name: str) -> CatheterConfig:
    """The `cpu` preset with one change (names joined by '+' stack changes; `cpu` alone is the preset)."""
    cfg = preset("cpu")
    for part in name.split("+"):
        if part == "cpu":
            continue
        elif part == "fullres":       # the photo's own 512 px instead of 256 (same crop side, same step cost)
            cfg.model = replace(cfg.model, input_size=512)
        elif part == "no-ohem":       # no crops of OK shots on the model's own strongest false alarms
            cfg.train = replace(cfg.train, hard_negatives=0.0)
        elif part == "crop192":
            cfg.train = replace(cfg.train, crop=192)
        elif part == "bce":
            cfg.train = replace(cfg.train, image_loss="bce", pixel_loss="bce")
        elif part == "uniform":
            cfg.train = replace(cfg.train, oversample=0.0)
        elif part == "wide":
            cfg.model = replace(cfg.model, widths=(16, 32, 48, 64, 96), head_width=32)
        elif part.startswith("epochs="):  # more (or fewer) planned epochs: a longer --budget is then used
            cfg.train = replace(cfg.train, epochs=int(part.removeprefix("epochs=")))
        else:
            raise SystemExit(f"unknown variant part {part!r}")
    return cfg


def verdict_scores(pred: Predictor, images: list[np.ndarray], batch: int = 16) -> np.ndarray:
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            p = torch.sigmoid(pred.model(pred.preprocess(images[i:i + batch]))["image_logits"].float())
            out.append(p.cpu().numpy())
    return np.concatenate(out)


def figures(probs: np.ndarray, labels: np.ndarray) -> dict:
    score, y = probs.max(1), (labels.max(1) > 0).astype(int)
    r90, t90 = M.recall_at_precision(score, y, 0.9)
    by_type = {t: round(float((score[labels[:, k] > 0] >= t90).mean()), 3) if (labels[:, k] > 0).any() else None
               for k, t in enumerate(DEFECT_TYPES)}
    return {"auroc": round(M.auroc(score, y), 4), "ap": round(M.average_precision(score, y), 4),
            "recall_at_p90": round(r90, 4), "by_type_recall_at_p90": by_type,
            "defective": int(y.sum()), "n": int(len(y))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--out", required=True, help="directory for the variants' checkpoints")
    ap.add_argument("--variants", default="cpu+no-ohem,fullres+no-ohem,fullres,cpu")
    ap.add_argument("--budget", type=float, default=720.0, help="training seconds per variant")
    ap.add_argument("--json")
    a = ap.parse_args()
    samples, test = load_dir(a.train), load_dir(a.test)
    labels = np.stack([s.labels for s in test])
    rows = []
    for name in a.variants.split(","):
        cfg = _variant(name)
        cfg.train.time_budget_s = a.budget
        out = Path(a.out) / name
        t0 = time.perf_counter()
        meta = train(samples, out, config=cfg, log=lambda s: print(s, file=sys.stderr, flush=True))
        t_train = time.perf_counter() - t0
        pred = Predictor.load(out, device="cpu")
        t1 = time.perf_counter()
        probs = verdict_scores(pred, [s.image for s in test])
        row = {"variant": name, "steps": meta["train"]["steps"], "train_s": round(t_train, 1),
               "infer_images_per_s": round(len(test) / (time.perf_counter() - t1), 1),
               "val_auroc": round((meta.get("validation") or {}).get("verdict_auroc", float("nan")), 4),
               **figures(probs, labels)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("| variant | steps | AUROC | AP | recall@P0.90 | " + " | ".join(DEFECT_TYPES) + " | images/s |")
    print("|---|---|---|---|---|" + "---|" * len(DEFECT_TYPES) + "---|")
    for r in rows:
        types = " | ".join(str(r["by_type_recall_at_p90"][t]) for t in DEFECT_TYPES)
        print(f"| {r['variant']} | {r['steps']} | {r['auroc']} | {r['ap']} | {r['recall_at_p90']} | {types} "
              f"| {r['infer_images_per_s']} |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
