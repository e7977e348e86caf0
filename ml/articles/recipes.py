"""The learning loop's recipes for this kind: a first model from the generator (``bootstrap``) and
generated pages that top up a fine-tuning's replay while real corrections are scarce. One model per
publisher: a publisher the generator has a style for gets its own pages, any other the first two styles.

Every ml package offers the same (``ml.<kind>.recipes``): ``bootstrap(out, *, size, budget_s, device,
callbacks, log)`` and ``generated_samples(n, *, seed, size)``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ml.articles.config import preset
from ml.articles.data import Sample, synth_samples
from ml.articles.styles import TRAIN_PUBLISHERS
from ml.articles.training import train
from ml.common.trainer import CallbackBase


def _noop(_: str) -> None:
    pass


def publishers_for(publisher: str | None) -> list[str]:
    return [publisher] if publisher in TRAIN_PUBLISHERS else list(TRAIN_PUBLISHERS[:2])


def generated_samples(n: int, *, seed: int, size: str = "cpu", publisher: str | None = None) -> list[Sample]:
    pubs = publishers_for(publisher)
    per = max(1, -(-n // len(pubs)))
    return synth_samples(per, pubs, seed, preset(size).train.work_width)[:n]


def bootstrap(out: str | Path, *, size: str, budget_s: float, device: str | None = None,
              callbacks: Iterable[CallbackBase] = (), log: Callable[[str], None] = _noop,
              publisher: str | None = None) -> dict:
    """Train a first model of preset ``size`` (FCN, page filter, thresholds) from generated pages into
    ``out`` within ``budget_s`` seconds (0: the preset's own length)."""
    cfg = preset(size)
    pubs = publishers_for(publisher)
    if size == "cpu":   # a first model in a minute or two: fewer generated pages than a full training
        cfg.train.pages_per_publisher, cfg.train.val_pages_per_publisher = 48 // len(pubs), 8
        cfg.train.filter_pages = 120
    if budget_s:
        cfg.train.max_minutes = budget_s / 60.0
    log(f"bootstrap: publishers {pubs}, preset {size}, budget {budget_s:.0f}s")
    return train(out=out, config=cfg, publishers=pubs, callbacks=callbacks, device=device, log=log)
