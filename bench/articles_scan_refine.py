"""What the scan fixes and the scan-robust ink split buy the cut refinement, without a trained network.

For held-out article pages at each scan level, a "coarse network" proposes every ground-truth cut as an
axis-parallel segment (the post-processing only makes horizontal and vertical cuts) through the cut's middle,
moved like a coarse network's output (position sigma 0.5 %, end points sigma 2 % of the width); the
refinement snaps them onto the page's geometry; cut P / R / F1 against the ground truth. Every setting sees
the same proposals. The settings add one change at a time (an ablation):

  none      no scan fix, the ink split for clean renders (``inkmask.LEGACY``), the default geometry prior
  fixes     + flatten and deskew (``scanfix``)
  rules     + rules found on a lower contrast with gaps allowed (``InkOptions.line_contrast``, ``line_cover``)
  text      + text binarised at a higher contrast (``text_contrast`` 60 instead of 50)
  specks    + isolated specks dropped from the text (``despeckle``): the default ink split
  prior     + the geometry prior calibrated per publisher on other annotated pages of the same scan level
            (``--cal-pages`` pages of seed ``--cal-seed``), as the trainer calibrates it: the product's default
  noink     the product's default without the scan fixes (what the fixes still buy)

    python bench/articles_scan_refine.py [--pages 40] [--levels clean,light,realistic,heavy] [--width 640]
                                         [--settings none,fixes,...] [--cal-pages 40] [--plot F.png] [--json F]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.articles.calibration import calibrate_geometry_per_publisher  # noqa: E402
from ml.articles.config import PostConfig  # noqa: E402
from ml.articles.degradation import scan_samples  # noqa: E402
from ml.articles.inkmask import DEFAULT, LEGACY  # noqa: E402
from ml.articles.metrics import cut_stats, prf  # noqa: E402
from ml.articles.postprocess import Segment  # noqa: E402
from ml.articles.refine import GeometryPrior, PageGeometry, refine_cuts  # noqa: E402
from ml.articles.scan import LEVELS  # noqa: E402
from ml.articles.scanfix import fix_sample  # noqa: E402

FIX = dict(flatten=True, deskew=True)
NOFIX = dict(flatten=False, deskew=False)
# name -> (scan fixes, ink split, per-publisher prior)
SETTINGS = {
    "none": (NOFIX, LEGACY, False),
    "fixes": (FIX, LEGACY, False),
    "rules": (FIX, replace(LEGACY, line_contrast=DEFAULT.line_contrast, line_cover=DEFAULT.line_cover), False),
    "text": (FIX, replace(DEFAULT, despeckle=0), False),
    "specks": (FIX, DEFAULT, False),
    "prior": (FIX, DEFAULT, True),
    "noink": (NOFIX, DEFAULT, True),
    # the fixes one at a time, with the clean-render ink split (the first scan measurements)
    "flatten": (dict(flatten=True, deskew=False), LEGACY, False),
    "deskew": (dict(flatten=False, deskew=True), LEGACY, False),
}
DEFAULT_SETTINGS = "none,fixes,rules,text,specks,prior,noink"


def coarse_proposals(cuts: list[dict], k: float, width: float, rng: np.random.Generator) -> list[Segment]:
    out = []
    for c in cuts:
        d, e0, e1 = rng.normal(0, 1, 3) * [0.005 * width, 0.02 * width, 0.02 * width]
        if abs(c["y1"] - c["y0"]) >= abs(c["x1"] - c["x0"]):   # vertical: x through the middle
            x = (c["x0"] + c["x1"]) / 2 * k + d
            out.append(Segment(x, min(c["y0"], c["y1"]) * k + e0, x, max(c["y0"], c["y1"]) * k + e1, 0.9))
        else:
            y = (c["y0"] + c["y1"]) / 2 * k + d
            out.append(Segment(min(c["x0"], c["x1"]) * k + e0, y, max(c["x0"], c["x1"]) * k + e1, y, 0.9))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--seed", type=int, default=777)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--levels", default="clean,light,realistic,heavy")
    ap.add_argument("--settings", default=DEFAULT_SETTINGS, help=f"any of {','.join(SETTINGS)}")
    ap.add_argument("--cal-pages", type=int, default=40, help="pages per level to calibrate the prior on")
    ap.add_argument("--cal-seed", type=int, default=555)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--plot", type=Path, help="also plot cut F1 against scan strength here (PNG)")
    a = ap.parse_args()
    names = a.settings.split(",")
    unknown = sorted(set(names) - set(SETTINGS))
    if unknown:
        ap.error(f"--settings: unknown {unknown}")
    table: dict = {}
    t0 = time.perf_counter()
    for level in a.levels.split(","):
        samples = scan_samples(a.pages, a.seed, LEVELS[level], a.width)
        cal = scan_samples(a.cal_pages, a.cal_seed, LEVELS[level], a.width) \
            if any(SETTINGS[n][2] for n in names) else []
        fixed: dict = {}
        for name in names:
            fix, ink, calibrated = SETTINGS[name]
            post = replace(PostConfig(), **fix)
            key = tuple(fix.values())
            if key not in fixed:
                fixed[key] = [fix_sample(s, post) for s in samples]
            priors = {}
            if calibrated:
                cal_fixed = [fix_sample(s, post) for s in cal]
                geos = [PageGeometry.measure(s.image, ink) for s in cal_fixed]
                priors = calibrate_geometry_per_publisher(cal_fixed, geos)
            rng = np.random.default_rng(a.seed)         # the same proposals for every setting
            tp = fp = fn = 0
            for f in fixed[key]:
                cuts = f.annotation["cuts"]
                k = f.image.shape[1] / f.size[0]
                coarse = coarse_proposals(cuts, k, f.image.shape[1], rng)
                prior = GeometryPrior.for_publisher(priors, f.publisher) if priors else GeometryPrior()
                fine = refine_cuts(coarse, PageGeometry.measure(f.image, ink), prior)
                pred = [Segment(c.x0 / k, c.y0 / k, c.x1 / k, c.y1 / k, c.score).to_json() for c in fine]
                st = cut_stats(pred, cuts, f.size[0])
                tp, fp, fn = tp + st["tp"], fp + st["fp"], fn + st["fn"]
            table.setdefault(level, {})[name] = prf(tp, fp, fn)
        row = "  ".join(f"{n}: {table[level][n]['f1']:.3f}" for n in names)
        print(f"{level:<10} cut F1  {row}", flush=True)
    print(f"({a.pages} pages per level at {a.width} px, proposals seed {a.seed}, priors from {a.cal_pages} pages "
          f"of seed {a.cal_seed}; {time.perf_counter() - t0:.0f} s)")
    if a.json:
        a.json.write_text(json.dumps(table, indent=1))
    if a.plot:
        plot(table, a.plot, a.pages, names)


def plot(table: dict, path: Path, pages: int, names: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = sorted(table, key=lambda k: LEVELS[k])
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name in names:
        ax.plot([LEVELS[k] for k in levels], [table[k][name]["f1"] for k in levels], "o-", label=name)
    ax.set_xlabel("scan strength (0.5 light, 1 realistic: skew <= 1.5 deg)")
    ax.set_ylabel("cut F1 after refinement")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"refinement of coarse cuts on scans ({pages} pages per level)")
    ax.axhline(0.9, ls="--", c="gray", lw=0.8)
    ax.legend(title="setting", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
