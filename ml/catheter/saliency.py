"""Guided-backpropagation saliency, overlays, the pointing game and the local-entropy score of a map.

``guided_backprop`` returns, per image, |d score / d input| (max over colour channels) with guided ReLUs,
at the working resolution. ``local_entropy`` is the mean over non-overlapping windows of the Shannon
entropy of the quantised (per-image normalised) map: a clean image's map is structured (edges of the
balloon and the defect), an adversarially perturbed one is speckled, which raises the local entropy.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ml.catheter.model import guided


def _objective(out: dict[str, torch.Tensor], target) -> torch.Tensor:
    logits = out["image_logits"].float()
    if isinstance(target, str) and target == "verdict":
        return logits.max(dim=1).values.sum()           # the most likely type of each image
    if isinstance(target, str) and target == "map":
        return out["seg_logits"].float().mean(dim=(1, 2, 3)).sum()  # the whole defect map
    if isinstance(target, int):
        return logits[:, target].sum()
    t = torch.as_tensor(target, device=logits.device)
    if t.ndim == 1:                                       # one type index per image
        return logits.gather(1, t.long().view(-1, 1)).sum()
    return (logits * t.to(logits.dtype)).sum()           # per-image weights over types


def guided_backprop(model: torch.nn.Module, x: torch.Tensor, target="verdict") -> torch.Tensor:
    """x: B x 3 x S x S in [0, 1] -> B x S x S saliency (float32, >= 0). Model is left in eval mode."""
    model.eval()
    x = x.detach().float().clone().requires_grad_(True)
    with torch.enable_grad(), guided(model):
        out = model(x)
        grad, = torch.autograd.grad(_objective(out, target), x)
    return grad.abs().amax(dim=1).float()


def local_entropy(sal: torch.Tensor, window: int = 8, bins: int = 16) -> torch.Tensor:
    """Mean local spatial entropy (bits, in [0, log2(bins)]) of each map in a B x H x W batch."""
    b = sal.shape[0]
    flat = sal.reshape(b, -1).float()
    k = max(1, int(round(0.995 * flat.shape[1])))
    scale = flat.kthvalue(k, dim=1).values.clamp(min=1e-12).view(b, 1, 1)   # robust per-image maximum
    q = (sal.float() / scale * bins).long().clamp(0, bins - 1).unsqueeze(1)
    ent = torch.zeros(b, sal.shape[-2] // window, sal.shape[-1] // window, device=sal.device)
    for level in range(bins):                                        # histogram of each window, bin by bin
        p = F.avg_pool2d((q == level).float(), window, window)[:, 0]
        ent -= p * torch.log2(p.clamp(min=1e-12))
    return ent.mean(dim=(1, 2))


def saliency_peak(sal: np.ndarray, sigma: float = 1.0) -> tuple[int, int]:
    """(x, y) of the maximum of a lightly smoothed map."""
    s = cv2.GaussianBlur(sal.astype(np.float32), (0, 0), sigma) if sigma > 0 else sal
    y, x = np.unravel_index(int(np.argmax(s)), s.shape)
    return int(x), int(y)


def pointing_hit(peak_xy: tuple[float, float], boxes: Sequence[Sequence[float]], tol: float = 0.0) -> bool:
    x, y = peak_xy
    return any(b[0] - tol <= x <= b[2] + tol and b[1] - tol <= y <= b[3] + tol for b in boxes)


def overlay(image: np.ndarray, sal: np.ndarray, alpha: float = 0.55,
            boxes: Sequence[Sequence[float]] = ()) -> np.ndarray:
    """RGB uint8 overlay of a saliency map (any size; resized to the image) with optional boxes."""
    h, w = image.shape[:2]
    s = cv2.resize(sal.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    s = cv2.GaussianBlur(s, (0, 0), max(1.0, w / 512))
    s = s / (np.percentile(s, 99.9) + 1e-12)
    heat = cv2.applyColorMap(np.clip(s * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    a = (np.clip(s, 0, 1) * alpha)[..., None]
    out = (image.astype(np.float32) * (1 - a) + heat.astype(np.float32) * a).astype(np.uint8)
    for b in boxes:
        cv2.rectangle(out, (int(b[0]) - 2, int(b[1]) - 2), (int(b[2]) + 1, int(b[3]) + 1), (0, 255, 0), 1)
    return out


def save_overlay(path, image: np.ndarray, sal: np.ndarray, boxes=()) -> None:
    cv2.imwrite(str(path), cv2.cvtColor(overlay(image, sal, boxes=boxes), cv2.COLOR_RGB2BGR))
