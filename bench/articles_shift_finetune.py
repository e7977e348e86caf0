"""An articles candidate on a publisher no model has seen, as the loop makes it, judged as the gate judges it.

The shipped champion (``pretrained/articles``) is fine-tuned on the first N corrected pages of the operator
simulation's shift (``bench/_sim_kinds.py``: a held-out publisher at realistic scan quality, stream seed
``--seed``) the way the training worker does it (the adapter's ``finetune``, generated pages topping up the
replay), once per fine-tuning variant, and scored on a golden set of the same shift from the golden seed
(never trained on) with the adapter's evaluation; the gate (``webapp.mlops.gate.judge``) gives its verdict
against the champion's figures on the same pages. Times are wall seconds of each phase on this machine.

    python bench/articles_shift_finetune.py [--n 10 20] [--seed 7] [--golden 40] [--variants worker lr3e-4 ...]
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
sys.path.insert(0, str(ROOT / "bench"))

# name -> keyword arguments of ml.articles.training.finetune over the worker's own (the adapter's defaults)
# ("worker": the adapter's contract, which keeps the weights below the config's finetune_min_pages; the others
# train the --steps whatever the page count)
VARIANTS: dict[str, dict] = {
    "worker": {},
    "calibration only": {"steps": 0},
    "steps": {"min_pages": 0},
    "lr1e-3": {"lr": 1e-3, "min_pages": 0},
    "lr1e-3 frozen-bn": {"lr": 1e-3, "freeze_norm": True, "min_pages": 0},
    "lr1e-3 wise-ft": {"lr": 1e-3, "alpha": "choose", "min_pages": 0},
    "lr1e-3 replay0.25": {"lr": 1e-3, "replay_fraction": 0.25, "min_pages": 0},
    "frozen-bn": {"freeze_norm": True, "min_pages": 0},
    "replay0.25": {"replay_fraction": 0.25, "min_pages": 0},
}


def pages(seed: int, count: int, golden: bool, first_id: int) -> list:
    """The shift's pages as the worker reads them: the grey working copy, truth in original pixels."""
    import cv2

    from _sim_kinds import SHIFTS
    from ml.articles.data import Sample
    from workers.adapters.articles import publisher_of

    shift, out = SHIFTS["articles"], []
    for i in range(count):
        files, truth = shift.item(seed, i, golden)
        image = cv2.imdecode(np.frombuffer(files[0][1], np.uint8), cv2.IMREAD_GRAYSCALE)
        h, w = image.shape
        scale = min(1.0, 1600 / max(w, h))   # LOUPE_WORKING_COPY_LONG_SIDE
        work = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        out.append(Sample(image=work, annotation=truth, original_size=(w, h),
                          publisher=publisher_of(shift.scope_key) or "unknown", page_id=f"item{first_id + i}"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[10, 20], help="corrected pages fine-tuned on")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--golden", type=int, default=40)
    ap.add_argument("--steps", type=int, default=40, help="optimiser steps (LOUPE_FINETUNE_STEPS)")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--margin", type=float, default=0.05, help="the gate's margin (LOUPE_GATE_MARGIN)")
    a = ap.parse_args()
    from webapp.mlops import gate
    from workers.adapters.articles import ArticlesAdapter
    from workers.pretrained import ROOT as SHIPPED

    adapter = ArticlesAdapter()
    t = time.perf_counter()
    stream, golden = pages(a.seed, max(a.n), False, 1), pages(a.seed, a.golden, True, 10_000)
    print(f"pages: {max(a.n)} stream, {len(golden)} golden in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    champion = adapter.evaluate(SHIPPED / "articles", golden, "cpu").to_json()
    print(f"champion: cut F1 {champion['overall']['cut_f1']:.3f} edits/page {champion['overall']['edits_mean']:.2f} "
          f"({time.perf_counter() - t:.0f} s)", flush=True)
    rows, work = [], Path(tempfile.mkdtemp(prefix="articles-shift-"))
    try:
        for n in a.n:
            replay = adapter.synthetic_samples(n, 2018 + n, f"publisher:{stream[0].publisher}")
            for name in a.variants:
                out = work / f"n{n}-{name.replace(' ', '_')}"
                t = time.perf_counter()
                info = adapter.finetune(base_dir=SHIPPED / "articles", new=stream[:n], replay=replay, out_dir=out,
                                        callbacks=[], log=lambda _: None, **{"steps": a.steps, **VARIANTS[name]})
                tuned = time.perf_counter() - t
                t = time.perf_counter()
                cand = adapter.evaluate(out, golden, "cpu").to_json()
                judged = time.perf_counter() - t
                decision = gate.judge(cand, champion, a.margin)
                o, tr = cand["overall"], info["train"]
                rows.append({"n": n, "variant": name, "cut_f1": round(o["cut_f1"], 3),
                             "edits": round(o["edits_mean"], 2), "verdict": decision["verdict"],
                             "interval": decision["rows"][0]["interval"], "tau": tr.get("tau"),
                             "alpha": tr.get("alpha"), "finetune_s": round(tuned, 1), "evaluate_s": round(judged, 1),
                             "phases_s": {k: tr.get(k) for k in ("prepare_seconds", "seconds", "calibrate_seconds")}})
                print("n={n:3d} {variant:18s} cut F1 {cut_f1:.3f} edits/page {edits:.2f} gate {verdict} "
                      "{interval} tau {tau} alpha {alpha} fine-tune {finetune_s} s {phases_s} evaluate {evaluate_s} s"
                      .format(**rows[-1]), flush=True)
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"seed": a.seed, "golden": len(golden), "steps": a.steps,
                      "champion": {"cut_f1": round(champion["overall"]["cut_f1"], 3),
                                   "edits": round(champion["overall"]["edits_mean"], 2)}, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
