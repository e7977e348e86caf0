"""The loop's value on realistic catheter data: candidate vs champion after N accepted corrections.

A new production set-up arrives (default: ``strong_artifacts``, which the champion never saw). Operators
correct N of its shots (their corrections are the generator's exact ground truth, as accepted); the loop
fine-tunes the champion on them with a replay sample of its training data and calibrates on half of the
set-up's golden set. Both models are scored side by side on the other half of the golden set:
verdict AUROC and recall at precision 0.90, for N = 10, 25, 50. All data at ``realistic`` difficulty.

    python bench/loop_realism.py [--champion CKPT] [--preset cpu] [--budget 720] [--n 10 25 50]
    python bench/loop_realism.py --preset tiny --train-n 40 --golden-n 24 --n 4 8 --size 128   # smoke run
    python bench/loop_realism.py --variants baseline frozen_bn lr_third wise frozen_bn+wise --reference

Without ``--champion`` it first trains one (``--preset``, ``--budget`` seconds) on ``--train-n`` shots of the
other set-ups. ``--variants`` fine-tunes each way side by side on the same corrections (``steps`` exact
optimiser steps, as the deployed loop): ``baseline`` (the config's learning rate, batch norm trained, no
averaging), ``frozen_bn`` (batch norm keeps the champion's statistics), ``lr_third`` (a third of the learning
rate), ``wise`` (WiSE-FT: champion and fine-tuned weights averaged, alpha chosen on the calibration half of
the golden set, which the test half never sees), and ``+`` combinations. ``--reference`` trains a model with
the new set-up in its data from the start, on the champion's budget: the gap the loop should close.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.catheter import SETUPS  # noqa: E402
from ml.catheter.config import SynthConfig, preset  # noqa: E402
from ml.catheter.data import synth_samples  # noqa: E402
from ml.catheter.evaluation import evaluate  # noqa: E402
from ml.catheter.training import finetune, train  # noqa: E402
from ml.common.finetuning import choose_alpha  # noqa: E402

WISE_ALPHAS = (0.25, 0.5, 0.75, 1.0)


def _weights(only: str | None = None, without: str | None = None) -> tuple[float, ...]:
    return tuple(float((only is None or s == only) and s != without) for s in SETUPS)


def _figures(ckpt: Path, golden) -> dict:
    v = evaluate(ckpt, golden, adv_n=0, epsilons=(), pointing_n=0)["verdict"]
    return {"auroc": round(v["auroc"], 4), "recall_at_p90": round(v["recall_at_precision_0.90"], 4)}


def _averaged(champion: Path, tuned: Path, alpha: float, out: Path) -> None:
    """The tuned checkpoint with its weights averaged with the champion's (WiSE-FT). Its thresholds stay the
    tuned one's: the figures compared here (AUROC, recall at P 0.90) do not depend on them."""
    from safetensors.torch import load_file, save_file

    from ml.common.checkpoint import WEIGHTS
    from ml.common.finetuning import interpolate

    shutil.copytree(tuned, out, dirs_exist_ok=True)
    save_file(interpolate(load_file(str(champion / WEIGHTS)), load_file(str(tuned / WEIGHTS)), alpha),
              str(out / WEIGHTS))


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
    ap.add_argument("--variants", nargs="+", default=["baseline"],
                    help="baseline, frozen_bn, lr_third, wise, or combinations joined by +")
    ap.add_argument("--reference", action="store_true", help="also train the reference with the new set-up")
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
    print(f"fine-tuning: exactly {a.steps} optimiser steps per candidate", flush=True)
    print(f"{'champion':<12} {0:>4} {rows[0]['auroc']:>7.4f} {rows[0]['recall_at_p90']:>12.4f}", flush=True)
    if a.reference:
        cfg = preset(a.preset)
        cfg.train.time_budget_s = a.budget
        with_new = old + synth_samples(33, a.train_n // 4, SynthConfig(**base, setup_weights=_weights(only=a.new_setup),
                                                                      label_noise=0.05))
        t = time.perf_counter()
        train(with_new, out / "reference", config=cfg, log=quiet)
        r = {"model": "reference", "corrections": 0, **_figures(out / "reference", test),
             "seconds": round(time.perf_counter() - t, 1)}
        rows.append(r)
        print(f"{'reference':<12} {0:>4} {r['auroc']:>7.4f} {r['recall_at_p90']:>12.4f} {r['seconds']:>8.1f}",
              flush=True)
    base_lr = preset(a.preset).train.finetune_lr
    for n in a.n:
        for variant in a.variants:
            parts = set(variant.split("+"))
            unknown = parts - {"baseline", "frozen_bn", "lr_third", "wise"}
            if unknown:
                raise SystemExit(f"unknown variant part(s) {sorted(unknown)}")
            t = time.perf_counter()
            cand = out / f"candidate_{n}_{variant}"
            kw = {"freeze_norm": "frozen_bn" in parts, "lr": base_lr / 3 if "lr_third" in parts else base_lr,
                  "alpha": 1.0}
            finetune(champion, pool[:n], replay, cand, steps=a.steps, val_samples=calib, log=quiet, **kw)
            alpha = 1.0
            if "wise" in parts:   # the averaging weight chosen on the calibration half, never on the test half
                tuned = cand

                def score(al: float, tuned: Path = tuned, tag: str = f"{n}_{variant}") -> float:
                    _averaged(champion, tuned, al, out / f"wise_{tag}_{al}")
                    return _figures(out / f"wise_{tag}_{al}", calib)["recall_at_p90"]

                alpha, _ = choose_alpha(score, WISE_ALPHAS)
                cand = out / f"wise_{n}_{variant}_{alpha}"
            r = {"model": variant, "corrections": n, **_figures(cand, test), "alpha": alpha,
                 "seconds": round(time.perf_counter() - t, 1)}
            rows.append(r)
            print(f"{variant:<12} {n:>4} {r['auroc']:>7.4f} {r['recall_at_p90']:>12.4f} {r['seconds']:>8.1f}"
                  + (f"  alpha {alpha:g}" if "wise" in parts else ""), flush=True)
    (out / "loop_realism.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
