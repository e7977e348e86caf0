"""The articles' evaluation plots."""
from __future__ import annotations

from pathlib import Path

from ml.common.plots import figure


def _plot_curves(curves: dict, x: str, y: str, xlabel: str, ylabel: str, path: Path, size: tuple,
                 title: str | None = None, **style) -> str:
    with figure(path, size, dpi=100, tight_layout=False, bbox_inches="tight") as ax:
        for k, c in sorted(curves.items()):
            ax.plot(c[x], c[y], label="all" if k == "_all" else k, **style)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return str(path)


def evaluation_plots(res: dict, d: Path) -> list[str]:
    """PR curves over tau and F1 over tau, per publisher."""
    d.mkdir(parents=True, exist_ok=True)
    files = []
    if "pr_curves" in res:
        curves = res["pr_curves"]
        files.append(_plot_curves(curves, "recall", "precision", "cut recall", "cut precision", d / "pr_curves.png",
                                  (6, 5), "cut precision vs recall over tau, per publisher", marker="."))
        files.append(_plot_curves(curves, "tau", "f1", "tau", "cut F1", d / "f1_over_tau.png", (6, 4)))
    return files


def plot_f1_vs_strength(runs: dict[str, dict], path: Path) -> str:
    """One line per run (label -> ``evaluate_scans`` result): cut F1 (solid) and article F1 (dotted)."""
    with figure(path, (5.5, 4)) as ax:
        for label, res in runs.items():
            lv = sorted(res["by_level"].values(), key=lambda r: r["strength"])
            x = [r["strength"] for r in lv]
            line, = ax.plot(x, [r["cut"]["f1"] for r in lv], "o-", label=f"cut F1 {label}".strip())
            ax.plot(x, [r["article"]["f1"] for r in lv], "s:", color=line.get_color(),
                    label=f"article F1 {label}".strip())
        ax.axhline(0.9, ls="--", c="gray", lw=0.8)
        ax.axvline(1.0, ls=":", c="gray", lw=0.8)
        ax.set_xlabel("scan strength (0.5 light, 1 realistic: skew <= 1.5 deg)")
        ax.set_ylabel("F1")
        ax.set_ylim(0, 1.02)
        ax.set_title("articles vs scan degradation")
        ax.legend(fontsize=7, loc="lower left")
    return str(path)
