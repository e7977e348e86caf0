"""The page's ink split into rules (thin straight lines: column rules, box frames, the masthead rule) and text
(glyphs and photos), robust to what a scan leaves after flattening and deskewing.

On a clean render a rule is an unbroken run of dark pixels, so a long morphological opening of the ink finds it.
On a scan the same rule is a faint, blurred line one or two pixels thick (the 300 dpi page was area-resized,
the scanner blurred it, the deskew resampled it), broken by noise into dashes; the opening then loses it and
the refinement mistakes a box's sides for text in the gutter. Here a rule is found on a lower contrast, across a
band of three pixels (a line between two rows, or a residue of skew), and along its length it may have gaps:
at least ``line_cover`` of every window ``0.05 x width`` long must be dark, and ``line_flank`` pixels to either
side the paper must show (a text line, dense across its height, would pass the first test). Text is binarised at
a higher contrast than before (``text_contrast``), which keeps blur halos and bleed-through residue out of the gutters,
and isolated specks of noise no bigger than ``despeckle`` pixels with no text next to them are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class InkOptions:
    """How the ink is split; ``LEGACY`` is the split for clean renders used before scans were handled."""
    text_contrast: float = 60.0        # grey levels below the paper for text ink
    line_contrast: float | None = 25.0  # grey levels below the paper for rule ink; None: rules need text contrast
    line_cover: float = 0.85           # share of a window along a rule that must be dark (gap tolerance)
    line_flank: int = 2                # paper this many pixels either side of a rule (0: not checked)
    despeckle: int = 4                 # isolated text components up to this many pixels are noise (0: keep)


DEFAULT = InkOptions()
LEGACY = InkOptions(text_contrast=50.0, line_contrast=None, despeckle=0)


def _rect(w: int, h: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (w, h))


def line_mask(line_ink: np.ndarray, length: int, horizontal: bool, cover: float, flank: int = 0) -> np.ndarray:
    """Pixels of ``line_ink`` (uint8 0/1) on straight lines at least ``length`` long along the axis, gaps
    allowed: a window of ``length`` along the line, across a band of 3 pixels, is at least ``cover`` dark; with
    ``flank``, the same window ``flank`` pixels to either side is less than half dark."""
    band = cv2.dilate(line_ink, _rect(1, 3) if horizontal else _rect(3, 1))
    window = (length, 1) if horizontal else (1, length)
    dense = cv2.blur(band.astype(np.float32), window, borderType=cv2.BORDER_CONSTANT) >= cover
    if flank:
        # a rule is thin: paper on both sides of it, ``flank`` pixels away (a text line is dense there)
        raw = cv2.blur(line_ink.astype(np.float32), window, borderType=cv2.BORDER_CONSTANT)
        before, after = np.zeros_like(raw), np.zeros_like(raw)
        if horizontal:
            before[flank:], after[:-flank] = raw[:-flank], raw[flank:]
        else:
            before[:, flank:], after[:, :-flank] = raw[:, :-flank], raw[:, flank:]
        dense &= np.maximum(before, after) < 0.5
    # every pixel of a window that passed belongs to the line, ends included
    return cv2.dilate(dense.astype(np.uint8), _rect(*window)) & line_ink


def drop_specks(text: np.ndarray, max_area: int) -> np.ndarray:
    """``text`` without components of at most ``max_area`` pixels that have no other text within 2 pixels
    (a full stop or an i's dot sits next to its word; noise on the paper stands alone)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(text.astype(np.uint8), connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] <= max_area
    small[0] = False
    speck = small[labels]
    near = cv2.dilate((text & ~speck).astype(np.uint8), _rect(5, 5)).astype(bool)
    small[np.unique(labels[speck & near])] = False      # a small component touching text stays whole
    return text & ~small[labels]


def split_ink(gray: np.ndarray, options: InkOptions = DEFAULT) -> tuple[np.ndarray, np.ndarray]:
    """(rules, text) as boolean masks of the grey page."""
    paper = float(np.percentile(gray, 90))
    dark = paper - gray.astype(np.float32)
    ink = (dark > options.text_contrast).astype(np.uint8)
    w = gray.shape[1]
    long_ = max(9, int(0.05 * w))
    thick = max(3, int(round(0.005 * w)))
    if options.line_contrast is None:
        hl = cv2.morphologyEx(ink, cv2.MORPH_OPEN, _rect(long_, 1))
        vl = cv2.morphologyEx(ink, cv2.MORPH_OPEN, _rect(1, long_))
    else:
        line_ink = (dark > options.line_contrast).astype(np.uint8)
        hl = line_mask(line_ink, long_, True, options.line_cover, options.line_flank)
        vl = line_mask(line_ink, long_, False, options.line_cover, options.line_flank)
    # solid areas (photos, inverse headline bars) are not rules
    solid = cv2.dilate(cv2.morphologyEx(ink, cv2.MORPH_OPEN, _rect(thick, thick)), _rect(3, 3))
    rules = ((hl | vl) & (1 - solid)).astype(np.uint8)
    rules = cv2.dilate(rules, _rect(3, 3)).astype(bool)
    text = ink.astype(bool) & ~rules
    if options.despeckle:
        text = drop_specks(text, options.despeckle)
    return rules, text
