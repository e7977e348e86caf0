"""A small training loop that a Celery worker can drive: progress callbacks, cooperative cancellation.

Each kind supplies a ``step_fn(model, batch) -> (loss, logs)``; the loop owns the optimiser step,
gradient clipping, autocast, timing and the callbacks. Cancellation is cooperative: a callback's
``should_stop()`` returning True ends the run after the current step with ``TrainingCancelled``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

import torch

from ml.common.device import autocast


class TrainingCancelled(Exception):
    """Raised when a callback asked the run to stop."""


@dataclass
class Progress:
    step: int
    total_steps: int
    epoch: int
    loss: float
    logs: dict[str, float] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def fraction(self) -> float:
        return self.step / max(1, self.total_steps)

    @property
    def eta_s(self) -> float:
        if self.step == 0:
            return math.nan
        return self.elapsed_s / self.step * (self.total_steps - self.step)


class Callback(Protocol):
    def on_step(self, progress: Progress) -> None: ...

    def should_stop(self) -> bool: ...


class CallbackBase:
    def on_step(self, progress: Progress) -> None:  # pragma: no cover - default no-op
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        pass

    def should_stop(self) -> bool:
        return False


class FunctionCallback(CallbackBase):
    """Adapts plain functions (e.g. a worker's event publisher and a Redis cancel flag) to a callback."""

    def __init__(self, on_step: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None, every: int = 1):
        self._on_step, self._should_stop, self.every = on_step, should_stop, max(1, every)

    def on_step(self, progress: Progress) -> None:
        if self._on_step and (progress.step % self.every == 0 or progress.step == progress.total_steps):
            self._on_step(progress)

    def should_stop(self) -> bool:
        return bool(self._should_stop and self._should_stop())


StepFn = Callable[[torch.nn.Module, Any], "tuple[torch.Tensor, dict[str, float]]"]


def fit(model: torch.nn.Module, batches: Callable[[int], Iterable[Any]], step_fn: StepFn, *,
        epochs: int, steps_per_epoch: int, optimizer: torch.optim.Optimizer,
        device: torch.device, callbacks: Iterable[CallbackBase] = (),
        scheduler: Any = None, grad_clip: float | None = 5.0, use_autocast: bool = True) -> list[dict[str, float]]:
    """Train ``epochs`` × ``steps_per_epoch`` steps. ``batches(epoch)`` yields batches already on ``device``.

    Returns the per-epoch mean logs. Raises ``TrainingCancelled`` when a callback asks to stop.
    """
    callbacks = list(callbacks)
    total = epochs * steps_per_epoch
    step = 0
    started = time.perf_counter()
    history: list[dict[str, float]] = []
    model.train()
    for epoch in range(epochs):
        sums: dict[str, float] = {}
        count = 0
        for batch in batches(epoch):
            if count >= steps_per_epoch:
                break
            with autocast(device, use_autocast):
                loss, logs = step_fn(model, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            count += 1
            value = float(loss.detach())
            logs = {"loss": value, **{k: float(v) for k, v in logs.items()}}
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v
            progress = Progress(step=step, total_steps=total, epoch=epoch, loss=value, logs=logs,
                                elapsed_s=time.perf_counter() - started)
            for cb in callbacks:
                cb.on_step(progress)
            if any(cb.should_stop() for cb in callbacks):
                raise TrainingCancelled(f"cancelled at step {step}/{total}")
        epoch_logs = {k: v / max(1, count) for k, v in sums.items()}
        history.append(epoch_logs)
        for cb in callbacks:
            if hasattr(cb, "on_epoch_end"):
                cb.on_epoch_end(epoch, epoch_logs)
    model.eval()
    return history
