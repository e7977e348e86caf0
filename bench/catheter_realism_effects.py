"""What each effect of the `realistic` difficulty costs a trained catheter model, and what test-time
augmentation gives back, without training anything.

One held-out set of `realistic` shots (seed ``--seed``); then the same balloons with one realism parameter at
a time set back to its `easy` value (every effect draws from its own random stream, so the other effects'
pixels stay as they were), and the `easy` set itself. The model scores every shot (forward only, the
verdict score = the highest type probability, as ``Predictor``); verdict AUROC, AP and recall at precision
0.90 per set. ``tta`` averages the scores over the four views the physics allows (identity, both flips,
180 degrees: an axial scratch stays axial; 90 degrees is never used).

    python bench/catheter_realism_effects.py [--checkpoint pretrained/catheter] [--n 400] [--seed 2]
                                             [--only realistic,easy,tta,decoys,...] [--json F]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.catheter import DEFECT_TYPES  # noqa: E402
from ml.catheter.config import REALISM, SynthConfig  # noqa: E402
from ml.catheter.data import synth_samples  # noqa: E402
from ml.catheter.predict import Predictor  # noqa: E402
from ml.common import metrics as M  # noqa: E402

EFFECTS = [f.name for f in fields(REALISM["easy"])]
VIEWS = {"identity": lambda x: x, "flip_h": lambda x: x.flip(3), "flip_v": lambda x: x.flip(2),
         "rot180": lambda x: x.flip(2).flip(3)}


def scores(pred: Predictor, images: list[np.ndarray], tta: bool, batch: int = 16) -> np.ndarray:
    out = []
    views = list(VIEWS.values()) if tta else [VIEWS["identity"]]
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = pred.preprocess(images[i:i + batch])
            p = torch.stack([torch.sigmoid(pred.model(v(x))["image_logits"].float()) for v in views]).mean(0)
            out.append(p.max(1).values.cpu().numpy())
    return np.concatenate(out)


def figures(score: np.ndarray, labels: np.ndarray, types: np.ndarray | None = None) -> dict:
    """``types``: N x 4 type labels, for the recall of each defect type at the precision-0.90 threshold."""
    r90, t90 = M.recall_at_precision(score, labels, 0.9)
    out = {"auroc": round(M.auroc(score, labels), 4), "ap": round(M.average_precision(score, labels), 4),
           "recall_at_p90": round(r90, 4), "defective": int(labels.sum()), "n": int(len(labels))}
    if types is not None:
        out["by_type_recall_at_p90"] = {t: round(float((score[types[:, k] > 0] >= t90).mean()), 3)
                                        for k, t in enumerate(DEFECT_TYPES) if (types[:, k] > 0).any()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default="pretrained/catheter")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--only", default=None, help="comma-separated subset of realistic,easy,tta and the effects")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    names = ["realistic", "tta", "easy"] + [f"no_{e}" for e in EFFECTS]
    if a.only:
        wanted = a.only.split(",")
        bad = sorted(set(wanted) - set(names) - set(EFFECTS))
        if bad:
            ap.error(f"--only: unknown {bad}; expected some of {names}")
        names = [n for n in names if n in wanted or n.removeprefix("no_") in wanted]
    pred = Predictor.load(a.checkpoint, device=a.device)
    easy = REALISM["easy"]
    t0 = time.perf_counter()
    table = {}
    for name in names:
        t = time.perf_counter()
        if name in ("realistic", "tta"):
            cfg = SynthConfig(size=a.size, difficulty="realistic")
        elif name == "easy":
            cfg = SynthConfig(size=a.size, difficulty="easy")
        else:
            eff = name.removeprefix("no_")
            cfg = SynthConfig(size=a.size, difficulty="realistic", overrides=((eff, getattr(easy, eff)),))
        samples = synth_samples(a.seed, a.n, cfg)
        labels = np.array([int(s.labels.max()) for s in samples])
        types = np.stack([s.labels for s in samples])
        table[name] = figures(scores(pred, [s.image for s in samples], tta=name == "tta"), labels, types)
        print(f"{name:<22} AUROC {table[name]['auroc']:.4f}  AP {table[name]['ap']:.4f}  "
              f"recall@P0.90 {table[name]['recall_at_p90']:.4f}  ({table[name]['defective']} defective of "
              f"{table[name]['n']}; {time.perf_counter() - t:.0f} s)  by type {table[name]['by_type_recall_at_p90']}",
              flush=True)
    print(f"checkpoint {a.checkpoint}, seed {a.seed}, {time.perf_counter() - t0:.0f} s in all")
    if a.json:
        a.json.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
