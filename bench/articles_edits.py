"""Edits per page on the demo's newspaper pages: starting from the model's proposal vs from scratch (the
paper's point: the model saves operator work), and what the threshold slider's preview would cost at other
thresholds. Edits are counted as the labeling core counts them (``formats.articles.count_edits``: cuts to
add, delete or move, and a changed page type). Also the inference time with and without the editor's cut
candidates and page geometry, side by side.

    python bench/articles_edits.py [--pages 8] [--seed 2018] [--ckpt pretrained/articles]

The pages are the ones ``make demo`` seeds (``workers.demo_sources.articles_page``, seed + 1, 1240 px wide);
the model is the shipped one the demo starts from.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from formats.articles import count_edits, empty  # noqa: E402
from formats.articles.layout import cuts_at_threshold  # noqa: E402
from ml.articles.predict import Predictor  # noqa: E402
from workers.demo_sources import ARTICLES_PUBLISHER, articles_page  # noqa: E402

THRESHOLDS = (0.1, 0.3, 0.5, 0.7, 0.9)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--seed", type=int, default=2018)
    ap.add_argument("--ckpt", default=str(Path(__file__).resolve().parents[1] / "pretrained" / "articles"))
    args = ap.parse_args()
    predictor = Predictor.load(args.ckpt, device="cpu")
    rows, times = [], {False: [], True: []}
    for i in range(args.pages):
        image, truth = articles_page(i, args.seed + 1)
        size = (image.shape[1], image.shape[0])
        for layout in (False, True):  # side by side: the cost of candidates + geometry
            predictor.with_layout = layout
            t0 = time.perf_counter()
            page = predictor.predict([image], publisher=ARTICLES_PUBLISHER, original_sizes=[size])[0]
            times[layout].append(time.perf_counter() - t0)
        proposal = page.to_annotation()
        scratch = empty([])
        at = {t: count_edits({"page_type": page.page_type, "cuts": cuts_at_threshold(page.extra["candidates"], t)},
                             truth) for t in THRESHOLDS}
        rows.append({"page": i, "type": truth["page_type"], "truth_cuts": len(truth["cuts"]),
                     "proposal": count_edits(proposal, truth), "scratch": count_edits(scratch, truth), "at": at,
                     "tau": page.tau})
    print(f"{'page':>4} {'type':>8} {'cuts':>5} {'scratch':>8} {'proposal':>9}  "
          + " ".join(f"t={t:<4}" for t in THRESHOLDS))
    for r in rows:
        print(f"{r['page']:>4} {r['type']:>8} {r['truth_cuts']:>5} {r['scratch']:>8} {r['proposal']:>9}  "
              + " ".join(f"{r['at'][t]:>6}" for t in THRESHOLDS))
    mean = lambda key: statistics.mean(r[key] for r in rows)  # noqa: E731
    scratch, proposal = mean("scratch"), mean("proposal")
    print(f"edits per page over {len(rows)} demo pages: from scratch {scratch:.2f}, with the proposal "
          f"{proposal:.2f} (publisher threshold {rows[0]['tau']}): {scratch / max(proposal, 1e-9):.1f}x fewer; "
          f"pages needing no edit {sum(r['proposal'] == 0 for r in rows)}/{len(rows)}")
    print("edits per page if the publisher's threshold were: "
          + ", ".join(f"{t}: {statistics.mean(r['at'][t] for r in rows):.2f}" for t in THRESHOLDS))
    a, b = statistics.median(times[False]), statistics.median(times[True])
    print(f"inference per page (median, cpu): {a * 1000:.0f} ms without, {b * 1000:.0f} ms with the cut candidates "
          f"and page geometry ({b / a:.2f}x)")


if __name__ == "__main__":
    main()
