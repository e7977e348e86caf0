"""The loop's value on realistic catheter data: candidate vs champion after N accepted corrections.

A new production set-up arrives (default: ``strong_artifacts``, which the champion never saw). Operators
correct N of its shots (their corrections are the generator's exact ground truth, as accepted); the loop
fine-tunes the champion on them with a replay sample of its training data and calibrates on half of the
set-up's golden set. Both models are scored side by side on the other half of the golden set:
verdict AUROC and recall at precision 0.90, for N = 10, 25, 50. All data at ``realistic`` difficulty.

    python bench/loop_realism.py [--champion CKPT] [--preset cpu] [--budget 720] [--n 10 25 50]
    python bench/loop_realism.py --preset tiny --train-n 40 --golden-n 24 --n 4 8 --size 128   # smoke run

Without ``--champion`` it first trains one (``--preset``, ``--budget`` seconds) on ``--train-n`` shots of the
other set-ups.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.catheter import SETUPS  # noqa: E402
from ml.catheter.config import SynthConfig, preset  # noqa: E402
from ml.catheter.data import synth_samples  # noqa: E402
from ml.catheter.engine import evaluate, finetune, train  # noqa: E402


def _weights(only: str | None = None, without: str | None = None) -> tuple[float, ...]:
    return tuple(float((only is None or s == only) and s != without) for s in SETUPS)


def _figures(ckpt: Path, golden) -> dict:
    v = evaluate(ckpt, golden, adv_n=0, epsilons=(), pointing_n=0)["verdict"]
    return {"auroc": round(v["auroc"], 4), "recall_at_p90": round(v["recall_at_precision_0.90"], 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--champion", type=Path, help="a trained checkpoint (default: train one first)")
    ap.add_argument("--preset", default="cpu", choices=("cpu", "gpu", "tiny"))
    ap.add_argument("--budget", type=float, default=720.0, help="champion training budget (s)")
    ap.add_argument("--new-setup", default="strong_artifacts", choices=SETUPS)
    ap.add_argument("--difficulty", default="realistic")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--train-n", type=int, default=2400)
    ap.add_argument("--golden-n", type=int, default=400)
    ap.add_argument("--replay-n", type=int, default=200)
    ap.add_argument("--n", type=int, nargs="+", default=[10, 25, 50], help="accepted corrections")
    ap.add_argument("--steps", type=int, default=40,
                    help="fine-tuning optimiser steps at least (the deployed loop's LOUPE_FINETUNE_STEPS)")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    out = a.out or Path(tempfile.mkdtemp(prefix="loop_realism_"))
    out.mkdir(parents=True, exist_ok=True)
    quiet = lambda s: None  # noqa: E731
    base = dict(size=a.size, difficulty=a.difficulty)
    old = synth_samples(1, a.train_n, SynthConfig(**base, setup_weights=_weights(without=a.new_setup),
                                                  label_noise=0.05))
    champion = a.champion
    if champion is None:
        cfg = preset(a.preset)
        cfg.train.time_budget_s = a.budget
        champion = out / "champion"
        t = time.perf_counter()
        train(old, champion, config=cfg, log=quiet)
        print(f"champion trained on {len(old)} shots without {a.new_setup} in {time.perf_counter() - t:.0f} s")
    new = SynthConfig(**base, setup_weights=_weights(only=a.new_setup), defect_rate=0.5)
    golden = synth_samples(31, a.golden_n, new)
    calib, test = golden[: len(golden) // 2], golden[len(golden) // 2:]
    pool = synth_samples(32, max(a.n), SynthConfig(**base, setup_weights=_weights(only=a.new_setup), defect_rate=0.3))
    replay = old[: a.replay_n]
    rows = [{"model": "champion", "corrections": 0, **_figures(champion, test)}]
    print(f"golden test: {len(test)} shots of {a.new_setup} ({sum(s.is_defect for s in test)} defective)")
    print(f"{'model':<12} {'N':>4} {'AUROC':>7} {'recall@P0.90':>12} {'seconds':>8}")
    print(f"{'champion':<12} {0:>4} {rows[0]['auroc']:>7.4f} {rows[0]['recall_at_p90']:>12.4f}", flush=True)
    for n in a.n:
        t = time.perf_counter()
        cand = out / f"candidate_{n}"
        finetune(champion, pool[:n], replay, cand, steps=a.steps, val_samples=calib, log=quiet)
        r = {"model": "candidate", "corrections": n, **_figures(cand, test),
             "seconds": round(time.perf_counter() - t, 1)}
        rows.append(r)
        print(f"{'candidate':<12} {n:>4} {r['auroc']:>7.4f} {r['recall_at_p90']:>12.4f} {r['seconds']:>8.1f}",
              flush=True)
    (out / "loop_realism.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
