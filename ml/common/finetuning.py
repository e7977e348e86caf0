"""What keeps a fine-tune on a few corrections from undoing the champion, for every kind's engine:

- ``freeze_norm_statistics``: batch-norm layers keep the champion's running statistics and normalise with
  them while the rest trains (a batch of ten corrections is no estimate of a population's statistics);
- ``interpolate``: weight averaging between the champion and the fine-tuned weights (WiSE-FT, Wortsman et
  al. 2022): ``(1 - alpha) * champion + alpha * fine-tuned``, with ``choose_alpha`` picking alpha on
  samples the fine-tune did not train on.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def freeze_norm_statistics(model: nn.Module) -> int:
    """Keep every batch-norm layer in evaluation mode (running statistics used, not updated) whatever
    ``model.train()`` says later; their affine weights still train. Returns how many layers it froze."""
    frozen = 0
    for module in model.modules():
        if isinstance(module, NORMS):
            module.eval()
            # nn.Module.train(mode) calls each child's train(); this one stays in evaluation mode.
            module.train = (lambda mode=True, m=module: nn.Module.train(m, False))  # type: ignore[method-assign]
            frozen += 1
    return frozen


def interpolate(champion: dict[str, torch.Tensor], tuned: dict[str, torch.Tensor],
                alpha: float) -> dict[str, torch.Tensor]:
    """``(1 - alpha) * champion + alpha * tuned`` for floating-point tensors; the others (counters) from
    ``tuned``. Both state dicts must have the same keys and shapes."""
    if set(champion) != set(tuned):
        raise ValueError("the two state dicts hold different tensors: not the same architecture")
    out = {}
    for name, t in tuned.items():
        c = champion[name]
        if c.shape != t.shape:
            raise ValueError(f"{name}: shape {tuple(c.shape)} against {tuple(t.shape)}")
        out[name] = torch.lerp(c.to(t.dtype), t, float(alpha)) if t.is_floating_point() else t.clone()
    return out


def choose_alpha(score: Callable[[float], float], alphas: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0)
                 ) -> tuple[float, dict[float, float]]:
    """The alpha with the highest ``score(alpha)`` (ties: the smaller alpha, nearer the champion) and every
    score, e.g. a verdict AUROC on held-out corrections of the weights interpolated at alpha."""
    scores = {float(a): float(score(float(a))) for a in alphas}
    best = max(scores, key=lambda a: (round(scores[a], 6), -a))
    return best, scores


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the model's weights before fine-tuning (the champion's side of ``blend``)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def blend(model: nn.Module, champion: dict[str, torch.Tensor], alpha: float) -> None:
    """Load ``interpolate(champion, model's weights, alpha)`` into the model; nothing to do at alpha 1."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha: from 0 (the champion) to 1 (the fine-tuned weights), not {alpha}")
    if alpha < 1.0:
        model.load_state_dict(interpolate(champion, model.state_dict(), alpha))
