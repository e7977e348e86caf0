"""What the scan fixes buy the cut refinement, without a trained network.

For held-out article pages at each scan level, a "coarse network" proposes every ground-truth cut as an
axis-parallel segment (the post-processing only makes horizontal and vertical cuts) through the cut's middle,
moved like a coarse network's output (position sigma 0.5 %, end points sigma 2 % of the width); the
refinement snaps them onto the page's geometry; cut P / R / F1 against the ground truth. Four settings side
by side on the same proposals: no fix, flatten only, deskew only, both (the default).

    python bench/articles_scan_refine.py [--pages 40] [--levels clean,light,realistic,heavy] [--width 640]
                                         [--plot F.png]
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

from ml.articles.config import PostConfig  # noqa: E402
from ml.articles.degradation import scan_samples  # noqa: E402
from ml.articles.metrics import cut_stats, prf  # noqa: E402
from ml.articles.postprocess import Segment  # noqa: E402
from ml.articles.refine import GeometryPrior, PageGeometry, refine_cuts  # noqa: E402
from ml.articles.scan import LEVELS  # noqa: E402
from ml.articles.scanfix import fix_sample  # noqa: E402

SETTINGS = {"none": dict(flatten=False, deskew=False), "flatten": dict(flatten=True, deskew=False),
            "deskew": dict(flatten=False, deskew=True), "both": dict(flatten=True, deskew=True)}


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
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--plot", type=Path, help="also plot cut F1 against scan strength here (PNG)")
    a = ap.parse_args()
    prior = GeometryPrior()
    table: dict = {}
    t0 = time.perf_counter()
    for level in a.levels.split(","):
        samples = scan_samples(a.pages, a.seed, LEVELS[level], a.width)
        for name, kw in SETTINGS.items():
            post = replace(PostConfig(), **kw)
            rng = np.random.default_rng(a.seed)         # the same proposals for every setting
            tp = fp = fn = 0
            for s in samples:
                f = fix_sample(s, post)
                cuts = f.annotation["cuts"]
                k = f.image.shape[1] / f.size[0]
                coarse = coarse_proposals(cuts, k, f.image.shape[1], rng)
                fine = refine_cuts(coarse, PageGeometry.measure(f.image), prior)
                pred = [Segment(c.x0 / k, c.y0 / k, c.x1 / k, c.y1 / k, c.score).to_json() for c in fine]
                st = cut_stats(pred, cuts, f.size[0])
                tp, fp, fn = tp + st["tp"], fp + st["fp"], fn + st["fn"]
            table.setdefault(level, {})[name] = prf(tp, fp, fn)
        row = "  ".join(f"{n}: F1 {table[level][n]['f1']:.3f}" for n in SETTINGS)
        print(f"{level:<10} {row}", flush=True)
    print(f"({a.pages} pages per level at {a.width} px, {time.perf_counter() - t0:.0f} s)")
    if a.json:
        a.json.write_text(json.dumps(table, indent=1))
    if a.plot:
        plot(table, a.plot, a.pages)


def plot(table: dict, path: Path, pages: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = sorted(table, key=lambda k: LEVELS[k])
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name in SETTINGS:
        ax.plot([LEVELS[k] for k in levels], [table[k][name]["f1"] for k in levels], "o-", label=name)
    ax.set_xlabel("scan strength (0.5 light, 1 realistic: skew <= 1.5 deg)")
    ax.set_ylabel("cut F1 after refinement")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"refinement of coarse cuts on scans ({pages} pages per level)")
    ax.legend(title="scan fix", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
