"""Single-shot against series-aware scores on rotation series at `realistic` (inference only).

``--balloons`` balloons of seed ``--seed``, each photographed ``--shots`` times while it turns (the
generator's rotation series: the background, its look-alikes and the lamp's glints stay where they are, the
defects move and are seen in a minority of the shots). One model scores every shot (forward only); the
figures per shot (a shot is defective when a defect is visible in it) and per balloon (defective when any
shot is, scored by its highest shot) for:

- ``single``: the verdict score of the shot alone (what ``Predictor`` gives),
- ``series``: the same score scaled by the share of the shot's strongest map response that is not static
  over the series (``ml.catheter.series``),
- ``map_max`` / ``map_moving``: the defect map's maximum, and its maximum above the series' median (the two
  halves of ``series``, to see what each carries).

    python bench/catheter_series.py --checkpoint CKPT [--balloons 300] [--shots 8] [--seed 2] [--json F]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.catheter_realism_effects import figures  # noqa: E402
from ml.catheter import DEFECT_TYPES  # noqa: E402
from ml.catheter.config import SynthConfig  # noqa: E402
from ml.catheter.predict import Predictor  # noqa: E402
from ml.catheter.series import moving_and_top, score_series, series_scores  # noqa: E402
from ml.catheter.synth import generate_series  # noqa: E402


def run(pred: Predictor, balloons: int, shots: int, seed: int, difficulty: str) -> dict:
    cfg = SynthConfig(series_len=shots, difficulty=difficulty)
    rows = {name: [] for name in ("single", "series", "map_max", "map_moving")}
    labels, types, balloon_of = [], [], []
    t0, t_model = time.perf_counter(), 0.0
    for b in range(balloons):
        series = generate_series(seed, b, cfg)
        t1 = time.perf_counter()
        score, maps = score_series(pred, [s.image for s in series])
        t_model += time.perf_counter() - t1
        moving, top = moving_and_top(maps)
        rows["single"].append(score)
        rows["series"].append(series_scores(score, maps))
        rows["map_max"].append(top)
        rows["map_moving"].append(moving)
        for s in series:
            labels.append(int(bool(s.defects)))
            types.append([int(any(d["type"] == t for d in s.defects)) for t in DEFECT_TYPES])
            balloon_of.append(b)
    y, ty, owner = np.array(labels), np.array(types), np.array(balloon_of)
    y_b = np.array([y[owner == b].max() for b in range(balloons)])
    out = {"balloons": balloons, "shots_per_balloon": shots, "seed": seed, "difficulty": difficulty,
           "defective_balloons": int(y_b.sum()), "seconds": round(time.perf_counter() - t0, 1),
           "model_images_per_s": round(len(y) / max(t_model, 1e-9), 1), "per_shot": {}, "per_balloon": {}}
    for name, parts in rows.items():
        s = np.concatenate(parts)
        out["per_shot"][name] = figures(s, y, ty)
        out["per_balloon"][name] = figures(np.array([s[owner == b].max() for b in range(balloons)]), y_b)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default="pretrained/catheter")
    ap.add_argument("--balloons", type=int, default=300)
    ap.add_argument("--shots", type=int, default=8)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--difficulty", default="realistic", choices=("easy", "realistic", "hard"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    if a.shots < 1 or a.balloons < 1:
        ap.error("--shots and --balloons must be at least 1")
    res = run(Predictor.load(a.checkpoint, device=a.device), a.balloons, a.shots, a.seed, a.difficulty)
    res["checkpoint"] = a.checkpoint
    print(f"{a.balloons} balloons x {a.shots} shots at {a.difficulty} (seed {a.seed}), "
          f"{res['defective_balloons']} defective balloons; {res['seconds']} s, "
          f"model {res['model_images_per_s']} images/s")
    print("| score | per shot: AUROC | AP | recall@P0.90 | " + " | ".join(DEFECT_TYPES)
          + " | per balloon: AUROC | AP | recall@P0.90 |")
    print("|---" * (8 + len(DEFECT_TYPES)) + "|")
    for name in res["per_shot"]:
        s, b = res["per_shot"][name], res["per_balloon"][name]
        by = s.get("by_type_recall_at_p90", {})
        print(f"| {name} | {s['auroc']:.4f} | {s['ap']:.4f} | {s['recall_at_p90']:.4f} | "
              + " | ".join(f"{by[t]:.3f}" if t in by else "-" for t in DEFECT_TYPES)
              + f" | {b['auroc']:.4f} | {b['ap']:.4f} | {b['recall_at_p90']:.4f} |")
    print(f"(shots: {res['per_shot']['single']['n']}, defective {res['per_shot']['single']['defective']})")
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
