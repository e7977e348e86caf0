"""FGSM perturbations (Goodfellow et al. 2015) made by the project, to evaluate the entropy flag."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def fgsm(model: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor, eps: float) -> torch.Tensor:
    """Untargeted one-step attack in pixel space ([0, 1]): x + eps * sign(grad_x BCE(image logits, labels)).

    For an OK image this pushes the defect scores up, for a defective one down."""
    model.eval()
    x = x.detach().float().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)["image_logits"].float()
        loss = F.binary_cross_entropy_with_logits(logits, labels.float().to(logits.device), reduction="sum")
        grad, = torch.autograd.grad(loss, x)
    return (x + eps * grad.sign()).clamp(0, 1).detach()
