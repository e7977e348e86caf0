"""Deep-Watershed-style detector: one backbone (a small U-Net), three per-pixel heads at full resolution.

* class head: C + 1 logits (0 = background), judged on the symbols' energy regions;
* energy head: K quantised levels of closeness to a symbol centre (0 = outside any symbol);
* box head: the symbol's size (log width, log height) and the offset from the pixel to the symbol's
  centre (in units of that size), so that every pixel of a region votes for the same box.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ml.common.checkpoint import load_config, load_weights
from ml.omr.config import DetectorConfig

BOX_CHANNELS = 4   # dx / w, dy / h, log w, log h


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DeepWatershed(nn.Module):
    """Input: N x 1 x H x W ink in [0, 1] at the page's resolution, H and W multiples of ``pad_multiple``.

    The backbone starts with a stride-2 convolution (a full 150-dpi page stays cheap), but the heads work at
    full resolution (``output_stride`` = 1): stems, barlines and ledger lines are 1-2 px thin at 150 dpi and
    a box IoU of 0.5 on them needs sub-pixel placement, which half-resolution maps could not give (their
    truth-derived maps alone already lost ~0.1 mAP). A shallow full-resolution branch of the input is
    joined to the upsampled decoder just before the heads.
    """

    output_stride = 1

    def __init__(self, n_classes: int, energy_levels: int = 8, widths: tuple[int, ...] = (8, 16, 32, 64, 128)):
        """``widths[0]``: channels of the full-resolution branch; ``widths[1]``: the half-resolution stem and
        the decoder's output (what carries class information to the heads: 8 channels there were too few
        for ~45 classes); ``widths[2:]``: encoder levels at 1/4, 1/8, ..."""
        super().__init__()
        self.n_classes, self.energy_levels = n_classes, energy_levels
        wf, w1 = widths[0], widths[1]
        self.full = nn.Sequential(nn.Conv2d(1, wf, 3, padding=1, bias=False), nn.BatchNorm2d(wf), nn.ReLU(inplace=True))
        self.stem = nn.Sequential(nn.Conv2d(wf, w1, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w1),
                                  nn.ReLU(inplace=True), nn.Conv2d(w1, w1, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(w1), nn.ReLU(inplace=True))
        half = widths[1:]
        self.enc = nn.ModuleList(_block(a, b) for a, b in zip(half[:-1], half[1:]))
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for w_skip, w in zip(reversed(half[:-1]), reversed(half[1:])):
            self.up.append(nn.ConvTranspose2d(w, w_skip, 2, stride=2))
            self.dec.append(_block(2 * w_skip, w_skip))
        self.up_full = nn.ConvTranspose2d(w1, w1, 2, stride=2)
        self.neck = nn.Sequential(nn.Conv2d(w1 + wf, w1, 3, padding=1, bias=False), nn.BatchNorm2d(w1),
                                  nn.ReLU(inplace=True))
        self.class_head = nn.Conv2d(w1, n_classes + 1, 1)
        self.energy_head = nn.Conv2d(w1, energy_levels, 1)
        self.box_head = nn.Conv2d(w1, BOX_CHANNELS, 1)
        self.pad_multiple = 2 ** (len(widths) - 1)

    @property
    def stride(self) -> int:   # what inputs must be a multiple of
        return self.pad_multiple

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        full = self.full(x)
        x = self.stem(full)
        skips = [x]
        for block in self.enc:
            x = block(F.max_pool2d(x, 2))
            skips.append(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips[:-1])):
            x = dec(torch.cat([up(x), skip], 1))
        x = self.neck(torch.cat([self.up_full(x), full], 1))
        return {"cls": self.class_head(x), "energy": self.energy_head(x), "box": self.box_head(x)}


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def load_model(checkpoint: str | Path, device: torch.device | str | None = None
               ) -> tuple[DeepWatershed, DetectorConfig, dict]:
    """The detector of a checkpoint, its config and the checkpoint's JSON."""
    conf = load_config(checkpoint)
    cfg = DetectorConfig.from_dict(conf["detector"])
    model = DeepWatershed(len(cfg.classes), cfg.energy_levels, cfg.widths)
    load_weights(checkpoint, model, device or "cpu")
    model.to(device or "cpu").eval()
    return model, cfg, conf
