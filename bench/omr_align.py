"""Alignment benchmark: accuracy, verdicts, box transfer and ms/page per mode on generated pairs.

    python bench/omr_align.py [--n 50] [--n-other 20] [--precise-n 12] [--json bench/out/omr_align.json]
                              [--cache bench/out/omr_pairs] [--wide 90]

Pairs are made by ml.omr.synth (music21 corpus -> verovio -> simulated photo) with the exact truth.
Timings: per photo, template features cached (computed before the clock starts), modes run side by side
on the same pairs in one process.
"""
from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ml.omr.align import Aligner, alignment_errors  # noqa: E402
from ml.omr.config import AlignConfig  # noqa: E402
from ml.omr.synth import make_pair  # noqa: E402
from ml.omr.transfer import ink_share, map_boxes, original_fractions, transfer_iou  # noqa: E402
from omr_wide import wide_pair  # noqa: E402

NOTEHEADS = {"noteheadBlack", "noteheadHalf", "noteheadWhole", "noteheadDoubleWhole"}


def cached_pair(seed: int, kind: str, cache: str):
    """make_pair (or, for kind "wide", ``bench/omr_wide.wide_pair``), kept in ``cache`` (pickles) when given:
    generation takes most of a run on a small CPU, and the pairs are a pure function of (seed, kind), so a
    rerun after a change to the aligner can reuse them."""
    make = (lambda s, _k: wide_pair(s)[0]) if kind == "wide" else make_pair
    if not cache:
        return make(seed, kind)
    path = Path(cache) / f"{kind}-{seed}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    pair = make(seed, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(pair))
    return pair


def run(args) -> dict:
    aligner = Aligner(AlignConfig(second_look=not args.no_second_look))
    t0 = time.perf_counter()
    pairs = {k: [cached_pair(args.seed + i, k, args.cache) for i in range(args.n if k == "moderate" else args.n_other)]
             for k in ("moderate", "curl", "partial", "wrong")}
    if args.wide:   # other composers, piano, small and dense staves, other warps: ordinary photos all
        pairs["wide"] = [cached_pair(i, "wide", args.cache) for i in range(args.wide)]
    gen_s = time.perf_counter() - t0
    print(f"generated {sum(map(len, pairs.values()))} pairs in {gen_s:.1f}s", flush=True)
    report: dict = {"generation_s": gen_s, "modes": {}}
    for mode in args.modes.split(","):
        r: dict = {"ms": [], "corner_max": [], "grid_median": [], "verdicts": {}, "iou_notehead": [], "ink_share": [],
                   "wide_corner_max": [], "wide_ms": []}
        for kind, items in pairs.items():
            if mode == "precise":
                items = items[: args.precise_n if kind == "moderate" else max(1, args.precise_n // 2)]
            counts = {"accept": 0, "review": 0, "reject": 0}
            for s in items:
                tpl = aligner.template(s.original.image)
                tpl.get("orb" if mode == "fast" else "sift", aligner.cfg)   # cached template features
                t = time.perf_counter()
                a = aligner.align(tpl, s.photo, mode=mode)
                ms = (time.perf_counter() - t) * 1e3
                counts[a.verdict] += 1
                if kind == "wide":
                    r["wide_ms"].append(ms)
                    r["wide_corner_max"].append(float("inf") if a.homography is None else alignment_errors(
                        a.homography, s.mapping.page_to_photo, s.original.size)["corner_max"])
                if kind == "moderate":
                    r["ms"].append(ms)
                    if a.homography is None:
                        r["corner_max"].append(float("inf"))
                        continue
                    e = alignment_errors(a.homography, s.mapping.page_to_photo, s.original.size)
                    r["corner_max"].append(e["corner_max"])
                    r["grid_median"].append(e["grid_median"])
                    ious = transfer_iou(s.original.symbols, a.homography, s.mapping.page_to_photo, NOTEHEADS)
                    r["iou_notehead"].extend(ious.tolist())
                    boxes = map_boxes(s.original.boxes(), a.homography)
                    expected = original_fractions(s.original.image, s.original.boxes())
                    r["ink_share"].append(ink_share(s.photo, boxes, expected)[0])
            r["verdicts"][kind] = counts
        cm = np.asarray(r["corner_max"])
        summary = {
            "pages": len(r["ms"]), "ms_per_page_median": statistics.median(r["ms"]),
            "ms_per_page_mean": statistics.fmean(r["ms"]),
            "share_corner_max_below_3px": float((cm < 3).mean()), "corner_max_median_px": float(np.median(cm)),
            "corner_max_worst_px": float(cm.max()), "grid_error_median_px": float(np.median(r["grid_median"])),
            "notehead_iou_median": float(np.median(r["iou_notehead"])), "noteheads": len(r["iou_notehead"]),
            "ink_share_median": float(np.median(r["ink_share"])), "verdicts": r["verdicts"],
        }
        v = r["verdicts"]
        summary["accept_rate_moderate"] = v["moderate"]["accept"] / max(1, sum(v["moderate"].values()))
        summary["reject_rate_wrong"] = v["wrong"]["reject"] / max(1, sum(v["wrong"].values()))
        summary["accepted_curl"] = v["curl"]["accept"]
        summary["accepted_partial"] = v["partial"]["accept"]
        if r["wide_corner_max"]:
            wm = np.asarray(r["wide_corner_max"])
            summary["wide"] = {"pairs": len(wm), "share_corner_max_below_3px": float((wm < 3).mean()),
                               "corner_max_median_px": float(np.median(wm)), "corner_max_worst_px": float(wm.max()),
                               "above_3px": [(i, round(float(e), 2)) for i, e in enumerate(wm) if e >= 3],
                               "ms_per_page_median": statistics.median(r["wide_ms"]), "verdicts": v["wide"]}
        report["modes"][mode] = summary
        print(mode, json.dumps(summary, indent=1), flush=True)
    if "fast" in report["modes"] and "precise" in report["modes"]:
        ratio = report["modes"]["precise"]["ms_per_page_median"] / report["modes"]["fast"]["ms_per_page_median"]
        report["precise_over_fast_time"] = ratio
        print(f"precise / fast time per page: {ratio:.1f}x")
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=50, help="moderate phone-photo pairs")
    ap.add_argument("--n-other", type=int, default=20, help="pairs per kind for curl, partial, wrong page")
    ap.add_argument("--precise-n", type=int, default=12, help="moderate pairs for precise mode (slow)")
    ap.add_argument("--modes", default="fast,precise")
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--no-second-look", action="store_true",
                    help="fast mode without the second look at doubtful or half-page results (as before 2026-12-01)")
    ap.add_argument("--wide", type=int, default=0, help="pairs from bench/omr_wide.py (pieces and warps the main "
                                                         "set does not use; seeds 0..N-1)")
    ap.add_argument("--json", default="")
    ap.add_argument("--cache", default="", help="folder keeping the generated pairs between runs (trusted pickles)")
    args = ap.parse_args(argv)
    report = run(args)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
