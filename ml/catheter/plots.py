"""The catheter's evaluation plots."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ml.catheter.saliency import save_overlay
from ml.common import metrics as M
from ml.common.plots import figure


def evaluation_plots(plots_dir, pred, samples, preds, score, yv, tn, fp, fn, tp) -> dict[str, str]:
    """PR curve, confusion matrix at the operating threshold, saliency overlays of up to six defective shots."""
    d = Path(plots_dir)
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    p, r, _ = M.precision_recall_curve(score, yv)
    with figure(d / "pr_curve.png", (4.5, 4)) as ax:
        ax.plot(r, p)
        ax.axhline(0.9, ls="--", c="gray")
        ax.axvline(0.95, ls="--", c="gray")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_title("defect vs OK")
        ax.set_xlim(0, 1.01)
        ax.set_ylim(0, 1.01)
    out["pr_curve"] = str(d / "pr_curve.png")
    with figure(d / "confusion.png", (3.6, 3.2)) as ax:
        cm = np.array([[tn, fp], [fn, tp]])
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center")
        ax.set_xticks([0, 1], ["ok", "defect"])
        ax.set_yticks([0, 1], ["ok", "defect"])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    out["confusion"] = str(d / "confusion.png")
    shown = [s for s in samples if s.is_defect][:6]
    if shown:
        ps = pred.predict([s.image for s in shown], saliency=True)
        for i, (s, pp) in enumerate(zip(shown, ps)):
            path = d / f"saliency_{i}.png"
            save_overlay(path, s.image, pp.saliency, boxes=[dd["box"] for dd in s.defects])
            out[f"saliency_{i}"] = str(path)
    return out


def plot_recall_vs_contrast(by_difficulty: dict[str, dict], path: Path) -> str:
    with figure(path, (5.5, 4)) as ax:
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
    return str(path)
