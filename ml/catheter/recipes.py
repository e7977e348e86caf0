"""The learning loop's recipes for this kind: a first model from the generator (``bootstrap``) and
generated samples that top up a fine-tuning's replay while real corrections are scarce.

Every ml package offers the same (``ml.<kind>.recipes``): ``bootstrap(out, *, size, budget_s, device,
callbacks, log)`` and ``generated_samples(n, *, seed, size)``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ml.catheter.config import preset
from ml.catheter.data import Sample, synth_samples
from ml.catheter.training import train
from ml.catheter.synth import SynthConfig
from ml.common.trainer import CallbackBase

DEFECT_RATE = 0.35     # generated balloons carrying defects: enough positives for a first model to learn from
BOOTSTRAP_SEED = 2018
BOOTSTRAP_SHOTS = {"tiny": (40, 16), "cpu": (360, 64), "gpu": (2400, 256)}   # (train, validation)


def synth_side(size: str) -> int:
    """Side of the generated photos: small for the tests' ``tiny`` preset, the real 512 px otherwise."""
    return 128 if size == "tiny" else 512


def generated_samples(n: int, *, seed: int, size: str = "cpu") -> list[Sample]:
    return synth_samples(seed, n, SynthConfig(size=synth_side(size), defect_rate=DEFECT_RATE))


def bootstrap(out: str | Path, *, size: str, budget_s: float, device: str | None = None,
              callbacks: Iterable[CallbackBase] = (), log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train a first model of preset ``size`` from generated shots into ``out`` within ``budget_s`` seconds
    (0: the preset's own length)."""
    cfg = preset(size)
    cfg.train.time_budget_s = float(budget_s)
    if size == "tiny" and budget_s:   # tests: the tiny preset trains one epoch unless given a budget
        cfg.train.epochs = 10_000
    n_train, n_val = BOOTSTRAP_SHOTS.get(size, BOOTSTRAP_SHOTS["cpu"])
    cfg.flag.select_n = min(cfg.flag.select_n, n_val)
    # The "auto" choice of the flag's saliency objective runs FGSM on the validation set for both
    # objectives (over a minute on a CPU); a bootstrap takes the package's default objective instead.
    if cfg.flag.objective == "auto":
        cfg.flag.objective = "verdict"
    log(f"bootstrap: {n_train} generated shots ({synth_side(size)} px), preset {size}, budget {budget_s:.0f}s")
    samples = generated_samples(n_train + n_val, seed=BOOTSTRAP_SEED, size=size)
    return train(samples[:n_train], out, config=cfg, val_samples=samples[n_train:], callbacks=callbacks,
                 device=device, log=log)
