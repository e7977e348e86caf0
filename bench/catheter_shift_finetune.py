"""A catheter candidate on a new set-up, as the loop makes it, judged by what the gate judges.

The shipped champion (``pretrained/catheter``) is fine-tuned on N corrected balloons of the operator
simulation's shift (``strong_artifacts`` at difficulty ``hard``, stream seed ``--seed``) with the worker's
contract (``LOUPE_FINETUNE_STEPS`` steps, the config's frozen norms and WiSE-FT alpha, generated replay
topping up the real one), and scored on a golden set of the same shift from another seed (``--golden-seed``,
never trained on): the golden proposal agreement the gate uses, balloon recall and precision at the
checkpoint's balloon threshold, and the balloon AUROC. Each N three ways: as fine-tuned (judged shot by shot
on the threshold its calibration on replay gives), with its parent's balloon threshold, and with a balloon
threshold calibrated on its corrected balloons (``workers/adapters/catheter_calibration.py``).

    python bench/catheter_shift_finetune.py [--n 10 20 40] [--seed 7] [--golden 40] [--golden-seed 1007]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETUP, DIFFICULTY = "strong_artifacts", "hard"   # bench/_sim_kinds.py's catheter shift


def balloons(seed: int, count: int, first_id: int) -> tuple[list, list[bool]]:
    from ml.catheter.data import samples_from_series
    from workers.demo_sources import catheter_series

    samples, labels = [], []
    for i in range(count):
        series, truth = catheter_series(i, seed, difficulty=DIFFICULTY, setup=SETUP)
        ident = f"item{first_id + i}"
        samples += samples_from_series([s.image for s in series], truth, {"id": ident, "series": ident})
        labels.append(truth["verdict"] == "defect")
    return samples, labels


def figures(checkpoint: Path, golden: list, labels: list[bool]) -> dict:
    from ml.catheter.predict import Predictor
    from ml.common import metrics as M
    from workers.adapters.catheter_golden import golden_proposals

    per_item = golden_proposals(checkpoint, golden, "cpu")
    scores = np.array([per_item[k]["score"] for k in sorted(per_item)])
    truth = np.array(labels)
    predictor = Predictor.load(checkpoint, device="cpu")
    point = predictor.series_point(len(golden) // len(labels))
    called = scores >= (point["threshold"] if point else predictor.verdict_threshold)
    return {"agreement": round(float(np.mean([v["agreement"] for v in per_item.values()])), 3),
            "recall": round(float(called[truth].mean()), 3),
            "precision": round(float(truth[called].mean()), 3) if called.any() else None,
            "auroc": round(float(M.auroc(scores, truth)), 3),
            "threshold": "balloon" if point else "shot"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[10, 20, 40], help="corrected balloons")
    ap.add_argument("--seed", type=int, default=7, help="the stream's seed (the corrections)")
    ap.add_argument("--golden", type=int, default=40)
    ap.add_argument("--golden-seed", type=int, default=1007)
    ap.add_argument("--steps", type=int, default=40, help="optimiser steps (LOUPE_FINETUNE_STEPS)")
    ap.add_argument("--champion", type=Path, default=ROOT / "pretrained" / "catheter")
    a = ap.parse_args()

    from ml.catheter.training import finetune
    from workers.adapters import get_adapter
    from workers.adapters.catheter_calibration import keep_parent_calibration, recalibrate_on_corrections

    golden, golden_labels = balloons(a.golden_seed, a.golden, 100_000)
    print(f"golden: {a.golden} balloons of seed {a.golden_seed}, {sum(golden_labels)} defective", flush=True)
    rows = [{"n": 0, "model": "champion", **figures(a.champion, golden, golden_labels)}]
    print(json.dumps(rows[-1]), flush=True)
    work = Path(tempfile.mkdtemp(prefix="loupe-shift-"))
    try:
        for n in a.n:
            new, labels = balloons(a.seed, n, 0)
            replay = get_adapter("catheter").synthetic_samples(len(new), 2018 + n, "line:B", "cpu")
            out = work / f"n{n}"
            t = time.perf_counter()
            finetune(a.champion, new, replay, out, steps=a.steps, log=lambda s: None)
            seconds = round(time.perf_counter() - t, 1)
            rows.append({"n": n, "model": "fine-tuned", "defective_corrections": sum(labels), "seconds": seconds,
                         **figures(out, golden, golden_labels)})
            print(json.dumps(rows[-1]), flush=True)
            keep_parent_calibration(out, a.champion)
            rows.append({"n": n, "model": "parent's balloon threshold", **figures(out, golden, golden_labels)})
            print(json.dumps(rows[-1]), flush=True)
            recalibrate_on_corrections(out, a.champion, new + replay, log=lambda s: None)
            rows.append({"n": n, "model": "calibrated on corrections", **figures(out, golden, golden_labels)})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'N':>3} | {'model':26} | agreement | recall | precision | AUROC")
    for r in rows:
        print(f"{r['n']:>3} | {r['model']:26} | {r['agreement']:9.3f} | {r['recall']:6.3f} | "
              f"{r['precision'] if r['precision'] is not None else '-':>9} | {r['auroc']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
