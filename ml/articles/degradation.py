"""Headline figures per scan degradation and the curve of cut F1 against scan strength.

``evaluate_scans`` renders one held-out set of article pages (same seed, so the same layouts at every level)
and degrades it at each strength, evaluates the checkpoint on every set and plots cut F1 (and article F1)
against the strength. ``post`` overrides the checkpoint's post-processing settings (e.g. ``flatten=False``,
``deskew=False``) to measure what the scan fixes buy.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Sequence

from ml.articles.evaluation import evaluate
from ml.articles.plots import plot_f1_vs_strength
from ml.articles.scan import LEVELS


def scan_samples(n_pages: int, seed: int, strength: float, width: int = 640, publishers: Sequence[str] | None = None):
    from ml.articles.data import Sample
    from ml.articles.styles import TRAIN_PUBLISHERS
    from ml.articles.synth import generate_pages

    pages = generate_pages(n_pages, seed=seed, publishers=list(publishers or TRAIN_PUBLISHERS), width=width,
                           scan=strength)
    return [Sample.from_synth(p) for p in pages]


def evaluate_scans(checkpoint: str | Path, levels: Sequence[str | float] = ("clean", "light", "realistic", "heavy"), *,
                   n_pages: int = 40, seed: int = 777, width: int = 640, post: dict | None = None,
                   publishers: Sequence[str] | None = None, device=None, plots_dir: str | Path | None = None,
                   log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    res: dict[str, Any] = {"checkpoint": str(checkpoint), "pages": n_pages, "seed": seed, "width": width,
                           "post": post or {}, "by_level": {}}
    for level in levels:
        strength = LEVELS[level] if isinstance(level, str) else float(level)
        name = level if isinstance(level, str) else f"{strength:g}"
        t0 = time.perf_counter()
        samples = scan_samples(n_pages, seed, strength, width, publishers)
        r = evaluate(checkpoint, samples, device=device, post=post, with_curves=False)
        o = r["overall"]
        res["by_level"][name] = {"strength": strength, "cut": o["cut"], "article": o["article"],
                                 "edits_mean": o.get("edits_mean"), "edits_median": o.get("edits_median"),
                                 "no_edit_share": o.get("no_edit_share"),
                                 "per_publisher_cut_f1": {k: v["cut"]["f1"] for k, v in r["per_publisher"].items()},
                                 "seconds": round(time.perf_counter() - t0, 1)}
        log(f"{name} (strength {strength:g}): cut F1 {o['cut']['f1']:.3f} article F1 {o['article']['f1']:.3f} "
            f"edits/page {o.get('edits_mean')}")
    if plots_dir:
        res["plot"] = plot_f1_vs_strength({"": res}, Path(plots_dir) / "cut_f1_vs_scan.png")
    return res
