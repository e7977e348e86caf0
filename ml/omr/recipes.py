"""The learning loop's recipes for this kind: a first detector from generated pages (``bootstrap``) and
generated pages that top up a fine-tuning's replay while real ground truth is scarce. Generated pages are
engravings and simulated photos of them (the truth moved in through the exact page-to-photo mapping).

Every ml package offers the same (``ml.<kind>.recipes``): ``bootstrap(out, *, size, budget_s, device,
callbacks, log)`` and ``generated_samples(n, *, seed, size)``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ml.common.trainer import CallbackBase
from ml.omr.config import preset
from ml.omr.data import Sample, synthetic_samples
from ml.omr.training import train

BOOTSTRAP_SEED = 2018
BOOTSTRAP_PAGES = {"tiny": 1, "cpu": 12, "gpu": 48}   # engravings; each also gives one simulated photo


def _noop(_: str) -> None:
    pass


def generated_samples(n: int, *, seed: int, size: str = "cpu") -> list[Sample]:
    """``n`` samples: half engravings, half simulated photos of them."""
    return synthetic_samples(max(1, -(-n // 2)), seed=seed)[:n]


def bootstrap(out: str | Path, *, size: str, budget_s: float, device: str | None = None,
              callbacks: Iterable[CallbackBase] = (), log: Callable[[str], None] = _noop) -> dict:
    """Train a first detector of preset ``size`` from generated pages into ``out``; with ``budget_s`` the
    later training stages are shortened to fit it (0: the preset's own schedule)."""
    pages = BOOTSTRAP_PAGES.get(size, BOOTSTRAP_PAGES["cpu"])
    log(f"bootstrap: {pages} generated pages and their photos, preset {size}, budget {budget_s:.0f}s")
    return train(None, out, config=preset(size), n_pages=pages, seed=BOOTSTRAP_SEED, time_budget_s=float(budget_s),
                 device=device, callbacks=callbacks, log=log)
