"""Headline figures per generator difficulty and recall against defect contrast.

``evaluate_difficulties`` generates one held-out test set per difficulty (same seed, so the balloons, set-ups
and defect kinds are the same; only the realism differs), evaluates the checkpoint on each and plots the
recall of defective images against the contrast of their most visible defect (grey levels, as the generator
measured it while drawing).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Sequence

from ml.catheter.config import SynthConfig
from ml.catheter.data import synth_samples
from ml.catheter.evaluation import evaluate
from ml.catheter.plots import plot_recall_vs_contrast


def evaluate_difficulties(checkpoint: str | Path, difficulties: Sequence[str], *, n: int = 600, seed: int = 2,
                          size: int = 512, defect_rate: float = 0.15, adv_n: int = 100, device=None,
                          plots_dir: str | Path | None = None,
                          log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Headline metrics per difficulty: verdict AUROC / AP / recall at precision 0.90, flag AUROC (FGSM 4/255)
    and the false-flag rate on clean images, plus recall per contrast bin; one PNG of recall vs contrast."""
    res: dict[str, Any] = {"checkpoint": str(checkpoint), "n": n, "seed": seed, "by_difficulty": {}}
    for name in difficulties:
        t0 = time.perf_counter()
        samples = synth_samples(seed, n, SynthConfig(size=size, defect_rate=defect_rate, difficulty=name))
        r = evaluate(checkpoint, samples, device=device, adv_n=min(adv_n, n), epsilons=(4,), pointing_n=0, log=log)
        v = r["verdict"]
        res["by_difficulty"][name] = {
            "n": r["n"], "n_defective": r["n_defective"], "auroc": v["auroc"],
            "average_precision": v["average_precision"],
            "recall_at_precision_0.90": v["recall_at_precision_0.90"],
            "operating_recall": v["recall"], "operating_precision": v["precision"],
            "flag_auroc_fgsm_4": r["flag"]["fgsm"]["4/255"]["auroc"],
            "false_flag_rate": r["flag"]["false_flag_rate_clean"],
            "by_type_recall_at_p90": {t: d["verdict_recall_at_p90_threshold"] for t, d in r["by_type"].items()},
            "by_contrast": r.get("by_contrast", []), "seconds": round(time.perf_counter() - t0, 1)}
        log(f"{name}: {res['by_difficulty'][name]}")
    if plots_dir:
        res["plot"] = plot_recall_vs_contrast(res["by_difficulty"], Path(plots_dir) / "recall_vs_contrast.png")
    return res

