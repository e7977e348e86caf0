"""A small U-Net-like FCN (from scratch): ink + coordinate channels in, a cut logit and three region
logits (background, article body, headline) out, at the input resolution."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

N_REGION = 3  # background, article body, headline


def _conv(cin: int, cout: int, dilation: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


def _block(cin: int, cout: int, convs: int = 2) -> nn.Sequential:
    layers = _conv(cin, cout)
    for _ in range(convs - 1):
        layers += _conv(cout, cout)
    return nn.Sequential(*layers)


class CutNet(nn.Module):
    def __init__(self, base: int = 12, depth: int = 4, in_ch: int = 3):
        super().__init__()
        chs = [base * 2 ** i for i in range(depth)]
        self.depth = depth
        self.enc = nn.ModuleList()
        c = in_ch
        for ch in chs:
            self.enc.append(_block(c, ch))
            c = ch
        # a wide-context bottleneck: dilated convs see across columns and articles
        self.context = nn.Sequential(*_conv(c, c, 2), *_conv(c, c, 6))
        self.dec = nn.ModuleList()
        for ch in reversed(chs[:-1]):  # one conv per decoder level: the decoder dominated the cost on CPU
            self.dec.append(_block(c + ch, ch, convs=1))
            c = ch
        self.head = nn.Conv2d(c, 1 + N_REGION, 1)

    @property
    def multiple(self) -> int:
        return 2 ** (self.depth - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, blk in enumerate(self.enc):
            if i:
                x = F.max_pool2d(x, 2)
            x = blk(x)
            skips.append(x)
        x = x + self.context(x)
        for blk, skip in zip(self.dec, reversed(skips[:-1])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = blk(torch.cat([x, skip], 1))
        return self.head(x)


def coord_channels(ink: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) ink -> (B, 3, H, W) with x and y in [-1, 1] of the full page (before any crop)."""
    b, _, h, w = ink.shape
    ys = torch.linspace(-1, 1, h, device=ink.device, dtype=ink.dtype).view(1, 1, h, 1).expand(b, 1, h, w)
    xs = torch.linspace(-1, 1, w, device=ink.device, dtype=ink.dtype).view(1, 1, 1, w).expand(b, 1, h, w)
    return torch.cat([ink, xs, ys], 1)
