"""Deep-Watershed-style detector: one backbone (a small U-Net), three per-pixel heads.

* class head: C + 1 logits (0 = background) on the symbols' energy regions;
* energy head: K quantised levels of closeness to a symbol centre (0 = outside any symbol);
* box head: log(width), log(height) of the symbol the pixel belongs to.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DeepWatershed(nn.Module):
    """Input: N x 1 x H x W ink in [0, 1] at the page's resolution, H and W multiples of ``pad_multiple``.
    Output maps at half resolution (``output_stride`` = 2): a strided first convolution keeps the cost of a
    full 150-dpi page low while the heads still separate noteheads and stems."""

    output_stride = 2

    def __init__(self, n_classes: int, energy_levels: int = 8, widths: tuple[int, ...] = (8, 16, 32, 64)):
        super().__init__()
        self.n_classes, self.energy_levels = n_classes, energy_levels
        w0 = widths[0]
        self.stem = nn.Sequential(nn.Conv2d(1, w0, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w0),
                                  nn.ReLU(inplace=True), nn.Conv2d(w0, w0, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(w0), nn.ReLU(inplace=True))
        self.enc = nn.ModuleList(_block(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for w_skip, w in zip(reversed(widths[:-1]), reversed(widths[1:])):
            self.up.append(nn.ConvTranspose2d(w, w_skip, 2, stride=2))
            self.dec.append(_block(2 * w_skip, w_skip))
        self.neck = nn.Sequential(nn.Conv2d(w0, 2 * w0, 3, padding=1), nn.ReLU(inplace=True))
        self.class_head = nn.Conv2d(2 * w0, n_classes + 1, 1)
        self.energy_head = nn.Conv2d(2 * w0, energy_levels, 1)
        self.box_head = nn.Conv2d(2 * w0, 2, 1)
        self.pad_multiple = self.output_stride * 2 ** (len(widths) - 1)

    @property
    def stride(self) -> int:   # what inputs must be a multiple of
        return self.pad_multiple

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.stem(x)
        skips = [x]
        for block in self.enc:
            x = block(F.max_pool2d(x, 2))
            skips.append(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips[:-1])):
            x = dec(torch.cat([up(x), skip], 1))
        x = self.neck(x)
        return {"cls": self.class_head(x), "energy": self.energy_head(x), "box": self.box_head(x)}


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
