"""The operator simulation's output: a table row per block of items, the learning curve as a PNG, and the
summary (the JSON object that ends the run's output)."""
from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any


@dataclass
class Answer:
    """One item answered by one simulated operator."""
    index: int
    item_id: int
    edits: int
    counts: dict
    version: str          # the model version that made the proposal the operator was shown
    accepted_at: float    # epoch seconds, when the reviewer's accept returned


@dataclass
class Promotion:
    version: str
    at: float                       # epoch seconds (server time of the audit entry)
    corrections: int                # stream corrections accepted by then
    latency_s: float | None         # from the newest correction its run learned from to the promotion
    automatic: bool


@dataclass
class Block:
    start: int
    loop: list[Answer] = field(default_factory=list)
    frozen: list[Answer] = field(default_factory=list)


def version_mix(answers: list[Answer]) -> str:
    return ", ".join(f"{v} x{n}" for v, n in sorted(Counter(a.version for a in answers).items()))


def block_row(block: Block, figures, promotions: list[Promotion]) -> dict[str, Any]:
    """``figures``: the shift's counts -> figures function."""
    end = block.start + len(block.loop)
    # A promotion belongs to the block whose proposals it could first reach.
    inside = [p for p in promotions if block.start <= p.corrections < end]
    return {"items": f"{block.start + 1}-{end}",
            "edits_loop": round(mean(a.edits for a in block.loop), 2),
            "edits_frozen": round(mean(a.edits for a in block.frozen), 2),
            "quality_loop": figures([a.counts for a in block.loop]),
            "quality_frozen": figures([a.counts for a in block.frozen]),
            "proposed_by": version_mix(block.loop),
            "promoted": [f"{p.version} ({p.latency_s:.0f} s)" if p.latency_s is not None else p.version
                         for p in inside]}


def _fmt(figures: dict) -> str:
    # the column is narrow: "verdict_recall" reads as "recall" there (the JSON keeps the full names)
    return " ".join(f"{k.removeprefix('verdict_')} {'-' if v is None else v}" for k, v in figures.items())


def header() -> str:
    return (f"{'items':>7} | {'edits/item on':>13} {'off':>5} | {'quality loop on':<40} | {'loop off':<40} | "
            "proposed by (loop on) | promoted (correction -> champion)")


def format_row(row: dict) -> str:
    return (f"{row['items']:>7} | {row['edits_loop']:>13.2f} {row['edits_frozen']:>5.2f} | "
            f"{_fmt(row['quality_loop']):<40} | {_fmt(row['quality_frozen']):<40} | {row['proposed_by']} | "
            f"{', '.join(row['promoted']) or '-'}")


def plot(path: Path, title: str, rows: list[dict], quality: tuple[str, ...], promotions: list[Promotion],
         block_size: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import MaxNLocator

    x = [int(r["items"].split("-")[1]) for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    # loop off first, loop on drawn over it: where the two agree, both stay visible
    top.plot(x, [r["edits_frozen"] for r in rows], "s--", color="tab:gray", markersize=8,
             label="loop off (frozen champion)")
    top.plot(x, [r["edits_loop"] for r in rows], "o-", color="tab:blue", label="loop on")
    top.set_ylabel(f"edits per item\n(mean of each block of {block_size})")
    top.set_ylim(bottom=0)
    for name, (solid, dashed) in zip(quality, (("o-", "s--"), ("^:", "v:"))):
        label = name.replace("_", " ")
        bottom.plot(x, [r["quality_frozen"].get(name) for r in rows], dashed, color="tab:gray", markersize=8,
                    label=f"{label}, loop off")
        bottom.plot(x, [r["quality_loop"].get(name) for r in rows], solid, color="tab:blue",
                    label=f"{label}, loop on")
    bottom.set_ylabel(f"proposal {' / '.join(q.replace('_', ' ') for q in quality)}\n(per block)")
    bottom.legend(loc="best", fontsize=8)
    bottom.set_ylim(0, 1.05)
    bottom.set_xlabel("stream items answered (each point: the block ending there)")
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    for p in promotions:
        for ax in (top, bottom):
            ax.axvline(p.corrections, color="tab:green", alpha=0.6, linewidth=1)
        top.annotate(f"{p.version} champion", (p.corrections, 0), xytext=(3, 3), textcoords="offset points",
                     color="tab:green", fontsize=8, rotation=90, va="bottom")
    top.legend(loc="best", fontsize=8)
    top.set_title(textwrap.fill(title, 90), fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary(kind: str, seed: int, rows: list[dict], promotions: list[Promotion], extra: dict) -> dict[str, Any]:
    automatic = [p for p in promotions if p.automatic]
    return {"kind": kind, "seed": seed,
            "blocks": [r["items"] for r in rows],
            "edits_per_item_loop": [r["edits_loop"] for r in rows],
            "edits_per_item_frozen": [r["edits_frozen"] for r in rows],
            "corrections_at_first_auto_promotion": automatic[0].corrections if automatic else None,
            "correction_to_promotion_s": [round(p.latency_s, 1) for p in automatic if p.latency_s is not None],
            **extra}
