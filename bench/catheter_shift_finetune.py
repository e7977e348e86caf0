"""Catheter candidates on a new set-up, fine-tuned several ways side by side, judged as the gate judges them.

The shipped champion (``pretrained/catheter``) is fine-tuned on N corrected balloons of the operator
simulation's shift (``strong_artifacts`` at difficulty ``hard``, stream seed ``--seed``) as the worker does
(``--steps`` optimiser steps, generated replay topping up the real one, the parent's balloon calibration kept),
once per variant (``VARIANTS``: learning rate, steps, which layers train, replay share, hard negatives from
the corrected OK shots); each fine-tuned model is then averaged with the champion at several WiSE-FT alphas.
Every (variant, alpha) is scored on two golden sets of the shift that no fine-tune trained on: a selection
set (``--select-seed``), on which the winner is chosen, and a report set (``--golden-seed``), on which it is
reported. Per balloon: the gate's proposal agreement, the balloon AUROC and recall at precision 0.90 (of the
balloon score the verdict is taken on). With ``--reference`` (``bench/catheter_reference.py``) the share of
the champion → reference gap in recall at P 0.90 that each candidate closes.

    python bench/catheter_shift_finetune.py [--n 10 50] [--seed 7] [--reference DIR] [--variants default ...]
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
MARGIN = 0.05   # LOUPE_GATE_MARGIN's default
# name -> finetune() keywords (the rest are the config's defaults) and the replay share
VARIANTS: dict[str, dict] = {
    "default": {},
    "lr/3": {"lr": 3.3e-4},
    "steps x3": {"steps_factor": 3},
    "decoder only": {"trainable": "decoder"},
    "head only": {"trainable": "head", "lr": 3e-3},
    "replay x3": {"replay_ratio": 3.0},
    "hard negatives": {"hard_negatives": True},
    "hard neg + steps x3": {"hard_negatives": True, "steps_factor": 3},
}
ALPHAS = (0.25, 0.5, 1.0)


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
    """Per balloon: the gate's agreement, AUROC and recall at P 0.90 of the balloon score, and recall /
    precision at the checkpoint's balloon threshold."""
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
            "recall_p90": round(float(M.recall_at_precision(scores, truth.astype(int), 0.9)[0]), 3),
            "auroc": round(float(M.auroc(scores, truth)), 3),
            "recall": round(float(called[truth].mean()), 3),
            "precision": round(float(truth[called].mean()), 3) if called.any() else None}


def averaged(champion: Path, tuned: Path, alpha: float, out: Path) -> Path:
    """``tuned`` with its weights ``(1 - alpha) * champion + alpha * tuned`` (WiSE-FT), config kept."""
    from safetensors.torch import load_file, save_file

    from ml.common.checkpoint import WEIGHTS
    from ml.common.finetuning import interpolate

    shutil.copytree(tuned, out, dirs_exist_ok=True)
    save_file(interpolate(load_file(str(champion / WEIGHTS)), load_file(str(tuned / WEIGHTS)), alpha),
              str(out / WEIGHTS))
    return out


def gap_closed(value: float, champion: float, reference: float | None) -> float | None:
    if reference is None or reference <= champion:
        return None
    return round((value - champion) / (reference - champion), 3)


def choose(rows: list[dict], champion: dict, ns: list[int]) -> str:
    """The (variant, alpha) with the best mean selection-set recall at P 0.90 over the N measured, among
    those whose selection agreement is nowhere below the champion's by more than the gate's margin."""
    keys = sorted({r["key"] for r in rows if r["model"] != "champion"})
    by = {(r["key"], r["n"]): r["select"] for r in rows}

    def safe(key):
        return all(by[key, n]["agreement"] >= champion["agreement"] - MARGIN for n in ns)

    def mean_recall(key):
        return float(np.mean([by[key, n]["recall_p90"] for n in ns]))

    pool = [k for k in keys if safe(k)] or keys
    return max(pool, key=lambda k: (round(mean_recall(k), 6), float(np.mean([by[k, n]["agreement"] for n in ns]))))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[10, 50], help="corrected balloons")
    ap.add_argument("--seed", type=int, default=7, help="the stream's seed (the corrections)")
    ap.add_argument("--select", type=int, default=60, help="selection golden balloons")
    ap.add_argument("--select-seed", type=int, default=1008)
    ap.add_argument("--golden", type=int, default=100, help="report golden balloons")
    ap.add_argument("--golden-seed", type=int, default=1007)
    ap.add_argument("--steps", type=int, default=40, help="optimiser steps (LOUPE_FINETUNE_STEPS)")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--alphas", type=float, nargs="+", default=list(ALPHAS))
    ap.add_argument("--champion", type=Path, default=ROOT / "pretrained" / "catheter")
    ap.add_argument("--reference", type=Path, help="bench/catheter_reference.py's model")
    ap.add_argument("--parent-thresholds", action="store_true",
                    help="candidates keep every threshold of the champion (else only its balloon calibration)")
    ap.add_argument("--json", type=Path, help="write every row here")
    a = ap.parse_args()

    from ml.catheter.training import finetune
    from workers.adapters import get_adapter
    from workers.adapters.catheter_calibration import keep_parent_calibration, keep_parent_thresholds

    t0 = time.perf_counter()
    sets = {"select": balloons(a.select_seed, a.select, 200_000), "report": balloons(a.golden_seed, a.golden, 100_000)}
    for name, (_, labels) in sets.items():
        print(f"{name}: {len(labels)} balloons, {sum(labels)} defective", flush=True)

    def judged(ckpt: Path) -> dict:
        return {name: figures(ckpt, s, labels) for name, (s, labels) in sets.items()}

    rows = [{"model": "champion", "key": "champion", "n": 0, **judged(a.champion)}]
    if a.reference:
        rows.append({"model": "reference", "key": "reference", "n": 0, **judged(a.reference)})
    for r in rows:
        print(json.dumps(r), flush=True)
    champion, reference = rows[0], (rows[1] if a.reference else None)
    work = Path(tempfile.mkdtemp(prefix="loupe-shift-"))
    try:
        for n in a.n:
            new, labels = balloons(a.seed, n, 0)
            replay = get_adapter("catheter").synthetic_samples(3 * len(new), 2018 + n, "line:B", "cpu")
            for variant in a.variants:
                kw = dict(VARIANTS[variant])
                steps = a.steps * kw.pop("steps_factor", 1)
                kw.setdefault("replay_ratio", 1.0)
                tuned = work / f"n{n}-{variant.replace(' ', '_').replace('/', '_')}"
                t = time.perf_counter()
                finetune(a.champion, new, replay, tuned, steps=steps, alpha=1.0, val_samples=replay[:len(new)],
                         log=lambda s: None, **kw)
                (keep_parent_thresholds if a.parent_thresholds else keep_parent_calibration)(tuned, a.champion)
                seconds = round(time.perf_counter() - t, 1)
                for alpha in a.alphas:
                    ckpt = (tuned if alpha == 1.0
                            else averaged(a.champion, tuned, alpha, work / f"{tuned.name}-a{alpha}"))
                    rows.append({"model": variant, "alpha": alpha, "key": f"{variant} @ alpha {alpha:g}", "n": n,
                                 "defective_corrections": sum(labels), "steps": steps, "finetune_s": seconds,
                                 **judged(ckpt)})
                    print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ref_p90 = reference["report"]["recall_p90"] if reference else None
    print(f"\n{'N':>3} | {'model':34} | sel agr | sel R@P.9 | agreement | R@P.9 | AUROC | recall | prec. | gap closed")
    for r in rows:
        s, g = r["select"], r["report"]
        closed = gap_closed(g["recall_p90"], champion["report"]["recall_p90"], ref_p90) if r["n"] else None
        print(f"{r['n']:>3} | {r['key']:34} | {s['agreement']:7.3f} | {s['recall_p90']:9.3f} | {g['agreement']:9.3f} | "
              f"{g['recall_p90']:5.3f} | {g['auroc']:5.3f} | {g['recall']:6.3f} | "
              f"{g['precision'] if g['precision'] is not None else '-':>5} | {closed if closed is not None else '-'}")
    if not a.variants:
        print(f"total {time.perf_counter() - t0:.0f} s")
        return 0
    winner = choose([r for r in rows if r["n"]], champion["select"], a.n)
    print(f"\nchosen on the selection set: {winner}")
    for r in rows:
        if r["key"] == winner:
            g = r["report"]
            print(f"  N={r['n']}: report agreement {g['agreement']:.3f} "
                  f"(champion {champion['report']['agreement']:.3f}, "
                  f"margin {MARGIN}), recall at P0.90 {g['recall_p90']:.3f} (champion "
                  f"{champion['report']['recall_p90']:.3f}, reference {ref_p90 if ref_p90 is not None else '-'}), "
                  f"gap closed {gap_closed(g['recall_p90'], champion['report']['recall_p90'], ref_p90)}")
    print(f"total {time.perf_counter() - t0:.0f} s")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
