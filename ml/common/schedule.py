"""The training time budget and the learning-rate schedule, shared by the kinds' engines.

A run on a machine slower than planned must still finish annealed: the schedule follows the run's
progress as max(step fraction, fraction of the time budget spent), and the budget stops the run when it
is spent (the engine then keeps the model it has).
"""
from __future__ import annotations

import math
import time

from ml.common.trainer import CallbackBase


class TimeBudget(CallbackBase):
    """A callback that stops the run when ``seconds`` of wall-clock time are spent (0: no budget)."""

    def __init__(self, seconds: float = 0.0):
        self.seconds, self.start, self.hit = float(seconds or 0.0), time.perf_counter(), False

    def restart(self) -> None:
        self.start, self.hit = time.perf_counter(), False

    def fraction(self) -> float:
        return (time.perf_counter() - self.start) / self.seconds if self.seconds > 0 else 0.0

    def should_stop(self) -> bool:
        self.hit = self.seconds > 0 and self.fraction() >= 1.0
        return self.hit


def warmup_cosine(progress: float, *, warmup: float, start: float, floor: float) -> float:
    """The learning-rate factor at ``progress`` in [0, 1]: linear warm-up from ``start`` to 1 over the first
    ``warmup`` of the run, then cosine decay to ``floor``."""
    f = min(1.0, max(0.0, progress))
    if f < warmup:
        return start + (1.0 - start) * f / warmup
    return floor + (1.0 - floor) * 0.5 * (1 + math.cos(math.pi * (f - warmup) / (1 - warmup)))


class WarmupCosine:
    """Sets the optimiser's learning rate to ``lr * warmup_cosine(progress)`` at every step (a scheduler for
    ``ml.common.trainer.fit``); progress is max(step / total_steps, the budget's time fraction)."""

    def __init__(self, optimizer, lr: float, total_steps: int, budget: TimeBudget | None = None, *,
                 warmup: float = 0.08, start: float = 0.1, floor: float = 0.02):
        self.optimizer, self.lr, self.total, self.budget = optimizer, lr, max(1, total_steps), budget
        self.warmup, self.start, self.floor, self.steps = warmup, start, floor, 0
        self._set(0.0)

    def progress(self) -> float:
        return max(self.steps / self.total, self.budget.fraction() if self.budget else 0.0)

    def _set(self, progress: float) -> None:
        lr = self.lr * warmup_cosine(progress, warmup=self.warmup, start=self.start, floor=self.floor)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def step(self) -> None:
        self.steps += 1
        self._set(self.progress())
