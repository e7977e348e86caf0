"""A small from-scratch CNN: encoder (stride-2 stem, then /4, /8, /16) + light top-down decoder to a
per-type defect map at 1/2 working resolution. Image-level type logits are the spatial maximum of the map
(multiple-instance style), so the verdict and the defect map agree and the verdict's gradient points at the
defect (guided backprop).

All ReLUs are ``GuidedReLU`` modules: with ``guided(model)`` active their backward pass only lets positive
gradients through positive activations (Springenberg et al. 2015), which is guided backpropagation.
Inputs are RGB in [0, 1]; normalisation is inside the model so attacks work in pixel space.
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

from ml.catheter import DEFECT_TYPES
from ml.catheter.config import ModelConfig


class _GuidedReLUFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.clamp(min=0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g.clamp(min=0) * (y > 0).to(g.dtype)


class GuidedReLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.guided = False

    def forward(self, x):
        return _GuidedReLUFn.apply(x) if self.guided else F.relu(x)


@contextlib.contextmanager
def guided(model: nn.Module):
    mods = [m for m in model.modules() if isinstance(m, GuidedReLU)]
    for m in mods:
        m.guided = True
    try:
        yield model
    finally:
        for m in mods:
            m.guided = False


def conv_bn(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), GuidedReLU())


class CatheterNet(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        w, h = cfg.widths, cfg.head_width
        self.stem = conv_bn(3, w[0], 2)                                                     # /2
        self.enc1 = conv_bn(w[0], w[1])                                                     # /2
        self.enc2 = nn.Sequential(conv_bn(w[1], w[2], 2), conv_bn(w[2], w[2]))              # /4
        self.enc3 = nn.Sequential(conv_bn(w[2], w[3], 2), conv_bn(w[3], w[3]))              # /8
        self.enc4 = nn.Sequential(conv_bn(w[3], w[4], 2), conv_bn(w[4], w[4], dilation=2))  # /16
        self.lat = nn.ModuleList([nn.Conv2d(c, h, 1) for c in (w[1], w[2], w[3], w[4])])
        self.smooth = nn.ModuleList([conv_bn(h, h) for _ in range(2)])
        self.act = GuidedReLU()
        self.head = nn.Conv2d(h, len(DEFECT_TYPES), 3, padding=1)
        nn.init.constant_(self.head.bias, -4.0)   # rare positives: start near p = 0.02
        self.register_buffer("mean", torch.tensor([0.45, 0.45, 0.43]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.2, 0.2, 0.2]).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (x - self.mean) / self.std
        f0 = self.stem(x)
        f1 = self.enc1(f0)
        f2 = self.enc2(f1)
        f3 = self.enc3(f2)
        f4 = self.enc4(f3)
        p = self.lat[3](f4)
        for lat, sm, f in zip((self.lat[2], self.lat[1]), self.smooth, (f3, f2)):
            p = F.interpolate(p, size=f.shape[-2:], mode="bilinear", align_corners=False) + lat(f)
            p = sm(p)
        p = self.act(F.interpolate(p, size=f1.shape[-2:], mode="bilinear", align_corners=False) + self.lat[0](f1))
        seg = self.head(p)                                 # B x 4 x S/2 x S/2
        image = seg.flatten(2).amax(dim=2)                  # B x 4
        return {"seg_logits": seg, "image_logits": image, "features": f1}


def build_model(cfg: ModelConfig) -> CatheterNet:
    return CatheterNet(cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
