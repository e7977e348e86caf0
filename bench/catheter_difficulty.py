"""How hard is each generator difficulty? A fixed, untrained detector as the yardstick.

The "lazy" detector a model could learn first: the strongest local contrast on the balloon (the largest
absolute difference between the grey image, lightly smoothed, and its 15-px median), nothing else. Its
verdict AUROC and recall at precision 0.90 per difficulty show how much each difficulty takes away from a
shortcut: on ``easy`` it already separates many defective shots, ``realistic`` / ``hard`` defects are small,
low-contrast, sit in highlights, and harmless look-alikes (never annotated) fire it on OK shots.
Also printed: the median contrast of the defects (grey levels, as the generator measured it) per difficulty.

    python bench/catheter_difficulty.py [--n 400] [--seed 2] [--size 512]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.catheter.config import SynthConfig  # noqa: E402
from ml.catheter.synth import generate_sample  # noqa: E402
from ml.common import metrics as M  # noqa: E402


def lazy_score(image: np.ndarray) -> float:
    g = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    h = g.shape[0]
    band = g[int(0.25 * h):int(0.75 * h)]                       # the balloon lies across the middle
    smooth = cv2.GaussianBlur(band, (0, 0), 0.8).astype(np.int16)
    med = cv2.medianBlur(band, 15).astype(np.int16)
    return float(np.percentile(np.abs(smooth - med), 99.95))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--defect-rate", type=float, default=0.5)
    a = ap.parse_args()
    print(f"{'difficulty':<10} {'n':>4} {'defective':>9} {'lazy AUROC':>10} {'recall@P0.90':>12} "
          f"{'median contrast':>15}")
    for diff in ("easy", "realistic", "hard"):
        t = time.perf_counter()
        cfg = SynthConfig(size=a.size, defect_rate=a.defect_rate, difficulty=diff)
        shots = [generate_sample(a.seed, i, cfg) for i in range(a.n)]
        y = np.array([bool(s.defects) for s in shots], int)
        score = np.array([lazy_score(s.image) for s in shots])
        contrast = [s.contrast for s in shots if s.contrast is not None]
        r90, _ = M.recall_at_precision(score, y, 0.9)
        print(f"{diff:<10} {a.n:>4} {int(y.sum()):>9} {M.auroc(score, y):>10.3f} {r90:>12.3f} "
              f"{np.median(contrast):>15.1f}   ({time.perf_counter() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
