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

import numpy as np

CONTRAST_EDGES = (0.0, 4.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, float("inf"))   # grey levels


def recall_by_contrast(score: np.ndarray, labels: np.ndarray, contrast: np.ndarray, t90: float,
                       operating: float, edges: Sequence[float] = CONTRAST_EDGES) -> list[dict[str, Any]]:
    """Recall of defective images binned by contrast, at the precision-0.90 threshold ``t90`` of this set and
    at the checkpoint's operating threshold."""
    out = []
    pos = labels == 1
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = pos & np.isfinite(contrast) & (contrast >= lo) & (contrast < hi)
        if not sel.any():
            continue
        out.append({"lo": float(lo), "hi": float(hi) if np.isfinite(hi) else None, "n": int(sel.sum()),
                    "median_contrast": float(np.median(contrast[sel])),
                    "recall_at_p90_threshold": float((score[sel] >= t90).mean()) if np.isfinite(t90) else 0.0,
                    "recall_at_operating_threshold": float((score[sel] >= operating).mean())})
    return out


def evaluate_difficulties(checkpoint: str | Path, difficulties: Sequence[str], *, n: int = 600, seed: int = 2,
                          size: int = 512, defect_rate: float = 0.15, adv_n: int = 100, device=None,
                          plots_dir: str | Path | None = None,
                          log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Headline metrics per difficulty: verdict AUROC / AP / recall at precision 0.90, flag AUROC (FGSM 4/255)
    and the false-flag rate on clean images, plus recall per contrast bin; one PNG of recall vs contrast."""
    from ml.catheter.config import SynthConfig
    from ml.catheter.data import synth_samples
    from ml.catheter.engine import evaluate

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


def plot_recall_vs_contrast(by_difficulty: dict[str, dict], path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, r in by_difficulty.items():
        bins = [b for b in r["by_contrast"] if b["n"] >= 3]
        if not bins:
            continue
        x = [b["median_contrast"] for b in bins]
        line, = ax.plot(x, [b["recall_at_p90_threshold"] for b in bins], "o-",
                        label=f"{name} (recall@P0.90 {r['recall_at_precision_0.90']:.2f})")
        ax.plot(x, [b["recall_at_operating_threshold"] for b in bins], "x--", color=line.get_color(), alpha=0.6,
                label=f"{name} at the operating threshold")
    ax.axhline(0.95, ls="--", c="gray", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("contrast of the most visible defect (grey levels, log)")
    ax.set_ylabel("recall (solid: precision-0.90 threshold)")
    ax.set_ylim(0, 1.02)
    ax.set_title("defective images found vs defect contrast")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return str(path)
