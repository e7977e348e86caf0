"""The reference a catheter candidate on a new set-up is measured against: a model trained with the set-up in
its data from the start, on the shipped champion's budget.

The champion (``pretrained/catheter``: ``python -m workers.pretrained build catheter --steps 2000``) learnt
from 1000 realistic shots of seed 2018 for 2000 steps of 16 crops, calibrated on 200 more. The reference
learns from the same recipe (same preset, same steps, same validation shots) with a quarter of its 1000
training shots replaced by corrected balloons of the operator simulation's shift (``strong_artifacts`` at
difficulty ``hard``, 3-shot series) from ``--seed``, a seed neither the corrections (7, 8) nor the golden sets
(1007, 1008) use. It keeps the champion's balloon calibration, as a candidate does, so the gate's figures
judge both alike; recall at precision 0.90 does not depend on a threshold.

    python bench/catheter_reference.py --out /tmp/catheter-reference [--steps 2000] [--seed 3001] [--budget-s S]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHIFT_SHARE = 0.25    # share of the training shots that show the new set-up


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=2000, help="the champion's: 2000")
    ap.add_argument("--seed", type=int, default=3001, help="the shift's balloons in the reference's data")
    ap.add_argument("--budget-s", type=float, default=0.0,
                    help="wall-clock cap on training (0: none); a capped run keeps its annealed model and says so")
    ap.add_argument("--champion", type=Path, default=ROOT / "pretrained" / "catheter")
    a = ap.parse_args()

    from bench.catheter_shift_finetune import balloons
    from ml.catheter.config import preset
    from ml.catheter.training import train
    from workers.adapters.catheter_calibration import keep_parent_calibration
    from workers.pretrained import CATHETER_STEPS_PER_EPOCH, PLANS, TRAIN_SEED, _catheter_shots

    plan = PLANS["catheter"]
    n_train, n_val = plan["n_train"], plan["n_val"]
    cfg = preset("cpu")
    cfg.train.time_budget_s = a.budget_s   # the champion's budget is its steps; 0 lets a loaded machine run them all
    cfg.train.steps_per_epoch = CATHETER_STEPS_PER_EPOCH
    cfg.train.epochs = max(1, -(-a.steps // CATHETER_STEPS_PER_EPOCH))
    cfg.flag.objective = "verdict"
    t = time.perf_counter()
    old = _catheter_shots(n_train + n_val, TRAIN_SEED, plan["difficulty"])
    n_shift = int(n_train * SHIFT_SHARE)
    shift, labels = balloons(a.seed, -(-n_shift // 3), 900_000)
    shift = shift[:n_shift]
    data = old[: n_train - len(shift)] + shift
    print(f"data: {n_train - len(shift)} realistic shots (seed {TRAIN_SEED}) + {len(shift)} shots of the shift "
          f"(seed {a.seed}, {sum(s.is_defect for s in shift)} defective); {time.perf_counter() - t:.0f} s", flush=True)
    meta = train(data, a.out, config=cfg, val_samples=old[n_train:], log=lambda s: print(s, flush=True))
    keep_parent_calibration(a.out, a.champion)
    info = {"steps": meta["train"]["steps"], "planned_steps": meta["train"]["planned_steps"],
            "seconds": meta["train"]["seconds"], "shift_shots": len(shift),
            "seed": a.seed, "validation": meta.get("validation")}
    (a.out / "reference.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
