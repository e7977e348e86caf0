"""Deterministic synthetic newspaper pages with ground truth.

A page is first *laid out* (pure geometry at 300 dpi: article cells on the publisher's column grid,
blocks, drawing operations, ground truth) and then *rendered* at any scale. Rendering at the working
resolution is equivalent to rendering at 300 dpi and downsampling with area interpolation: text lines come
from banks of lines rendered once at 300 dpi and area-downsampled per scale, rules and bars are drawn with
exact area coverage, photos are low-frequency textures. So training renders only the working copy, and the
300 dpi page is rendered only when it is written to disk.

Ground truth (coordinates at 300 dpi): page type; article polygons; cut lines (maximal straight segments
on the gutter mid-lines between cells of *different* articles); blocks (headline, kicker, text, photo,
caption, masthead, ...) with their article; the reading order of the articles and of each article's blocks;
and the page's text tokens (what an OCR layer would give).
"""
from __future__ import annotations

import json
import os
import time
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ml.articles.geometry import rects_union_polygon
from ml.articles.styles import (NON_ARTICLE_TYPES, PAGE_H, PAGE_W, STYLES, PublisherStyle, font_path,
                                publishers as default_publishers)

# ----------------------------------------------------------------------------------------------- text

_SYL = ["an", "ber", "ka", "lo", "mi", "ten", "ra", "se", "dor", "vi", "ge", "un", "sta", "mer", "po", "li",
        "ke", "nu", "tra", "del", "ro", "fa", "hen", "gi", "bu", "ne", "sol", "tar", "we", "ist", "or", "ma"]
_CHANNELS = ["ARD", "ZDF", "RTL", "SAT.1", "ProSieben", "VOX", "3sat", "arte", "KiKA", "n-tv", "SRF 1", "ORF 2"]
_TEAMS = ["FC Ansbach", "SV Bergheim", "TSV Lindau", "VfB Kornwest", "Eintracht Selb", "SC Moorfeld",
          "Union Pattensen", "Borussia Nette", "FSV Ruhla", "Rot-Weiss Essel", "SpVgg Tann", "TuS Gera"]


def _word(rng: np.random.Generator) -> str:
    w = "".join(_SYL[int(i)] for i in rng.integers(0, len(_SYL), int(rng.integers(1, 4))))
    r = rng.random()
    if r < 0.12:
        w = w.capitalize()
    elif r < 0.16:
        w += ","
    elif r < 0.19:
        w += "."
    elif r < 0.2:
        w = str(int(rng.integers(2, 2000)))
    return w


def _text_line(kind: str, rng: np.random.Generator) -> list[str]:
    """Words of one line (the renderer justifies them or places table cells)."""
    if kind == "ads":
        parts = [_word(rng).capitalize(), _word(rng), f"{int(rng.integers(1, 6))}-Zi.", _word(rng)]
        if rng.random() < 0.5:
            parts.append(f"{int(rng.integers(2, 99))}.{int(rng.integers(0, 999)):03d} €" if rng.random() < 0.3
                         else f"{int(rng.integers(90, 2500))} €")
        if rng.random() < 0.5:
            parts.append(f"Tel. 0{int(rng.integers(100, 999))} {int(rng.integers(100000, 9999999))}")
        return parts
    if kind == "tv":
        return [f"{int(rng.integers(5, 24)):02d}:{int(rng.choice([0, 5, 10, 15, 30, 45])):02d}"] + \
            [_word(rng).capitalize()] + [_word(rng) for _ in range(int(rng.integers(1, 4)))]
    if kind == "shares":
        price = rng.uniform(1, 900)
        chg = rng.normal(0, price * 0.02)
        return [(_word(rng) + _word(rng)).capitalize()[:14], f"{price:.2f}".replace(".", ","),
                f"{chg:+.2f}".replace(".", ","), f"{100 * chg / price:+.1f}%".replace(".", ",")]
    if kind == "results":
        a, b = rng.choice(len(_TEAMS), 2, replace=False)
        return [_TEAMS[a], "–", _TEAMS[b], f"{int(rng.integers(0, 5))}:{int(rng.integers(0, 5))}"]
    if kind == "table":
        g = int(rng.integers(10, 34))
        w, d = int(rng.integers(0, g)), 0
        d = int(rng.integers(0, g - w + 1))
        return [f"{int(rng.integers(1, 19))}.", _TEAMS[int(rng.integers(0, len(_TEAMS)))], str(g), str(w), str(d),
                str(g - w - d), f"{int(rng.integers(10, 70))}:{int(rng.integers(10, 70))}", str(3 * w + d)]
    return [_word(rng) for _ in range(40)]  # body / caption: more than fits, cut at the width


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _render_words(words: list[str], font: ImageFont.FreeTypeFont, size: int, width: int, line_h: int,
                  mode: str) -> tuple[np.ndarray, str]:
    """One line at 300 dpi as an ink strip (float32 in [0, 1]); mode: justify | left | table."""
    img = Image.new("L", (width, line_h), 0)
    draw = ImageDraw.Draw(img)
    base = int(round(line_h * 0.78))
    if mode == "table":
        n = len(words)
        slot = width / n
        first = min(0.45, 1.6 / n)  # the first (name) cell is wider
        xs = [0.0] + [width * first + (width * (1 - first)) / (n - 1) * i for i in range(n - 1)]
        for i, (x, w) in enumerate(zip(xs, words)):
            if i > 0:  # numbers right-aligned in their slot
                slot = width * (1 - first) / (n - 1)
                x = x + slot - font.getlength(w) - 4
            draw.text((x, base), w, font=font, fill=255, anchor="ls")
        return np.asarray(img, np.float32) / 255.0, " ".join(words)
    space = font.getlength(" ")
    used, chosen = 0.0, []
    for w in words:
        lw = font.getlength(w)
        if chosen and used + space + lw > width:
            break
        if not chosen and lw > width:
            break
        used += (space if chosen else 0) + lw
        chosen.append((w, lw))
    if mode == "justify" and len(chosen) > 1:
        gap = (width - sum(lw for _, lw in chosen)) / (len(chosen) - 1)
    else:
        gap = space
    x = 0.0
    for w, lw in chosen:
        draw.text((x, base), w, font=font, fill=255, anchor="ls")
        x += lw + gap
    return np.asarray(img, np.float32) / 255.0, " ".join(w for w, _ in chosen)


_BANK_FULL: dict[tuple, list[tuple[np.ndarray, str]]] = {}
_BANK_SCALED: dict[tuple, list[np.ndarray]] = {}
BANK_LINES = 24


def _bank_key(kind: str, font: str, size: int, width: int, line_h: int, mode: str) -> tuple:
    return (kind, font, int(size), int(width), int(line_h), mode)


def _bank_full(key: tuple) -> list[tuple[np.ndarray, str]]:
    if key not in _BANK_FULL:
        kind, font, size, width, line_h, mode = key
        rng = np.random.default_rng(zlib.crc32(repr(key).encode()))
        f = _font(font_path(font), size)
        lines = []
        for i in range(BANK_LINES):
            words = _text_line(kind, rng)
            m = mode
            if mode == "justify" and i >= BANK_LINES - 6:  # the last lines of paragraphs: short, ragged
                words = words[: int(rng.integers(2, 7))]
                m = "left"
            lines.append(_render_words(words, f, size, width, line_h, m))
        _BANK_FULL[key] = lines
    return _BANK_FULL[key]


PHASES = 4  # sub-pixel placement phases per axis at reduced scales


def _bank_scaled(key: tuple, scale: float, idx: int, px: int = 0, py: int = 0) -> np.ndarray:
    """Line ``idx`` of a bank at ``scale``, shifted by (px, py) / PHASES of an output pixel."""
    k = key + (round(scale, 6), idx, px, py)
    if k not in _BANK_SCALED:
        a = _bank_full(key)[idx][0]
        _BANK_SCALED[k] = a if scale == 1.0 else _area_resize(_shift(a, px, py, scale), scale)
    return _BANK_SCALED[k]


def _shift(a: np.ndarray, px: int, py: int, scale: float) -> np.ndarray:
    dx, dy = int(round(px / PHASES / scale)), int(round(py / PHASES / scale))
    return np.pad(a, ((dy, 0), (dx, 0))) if dx or dy else a


def _place(v: float, scale: float) -> tuple[int, int]:
    """Integer output pixel and sub-pixel phase of a 300 dpi coordinate."""
    f = v * scale
    i = int(np.floor(f))
    ph = int(round((f - i) * PHASES))
    if ph == PHASES:
        return i + 1, 0
    return i, ph


def bank_text(key: tuple, idx: int) -> str:
    return _bank_full(key)[idx][1]


def _area_resize(a: np.ndarray, scale: float) -> np.ndarray:
    h, w = a.shape
    return cv2.resize(a, (max(1, int(round(w * scale))), max(1, int(round(h * scale)))), interpolation=cv2.INTER_AREA)


# ----------------------------------------------------------------------------------------------- layout


@dataclass
class Layout:
    """A page as geometry at 300 dpi: drawing operations plus ground truth."""
    seed: int
    publisher: str
    page_type: str
    width: int = PAGE_W
    height: int = PAGE_H
    ops: list[tuple] = field(default_factory=list)
    blocks: list[dict] = field(default_factory=list)
    articles: list[dict] = field(default_factory=list)     # {"id", "polygon", "cells"}
    cuts: list[dict] = field(default_factory=list)
    reading_order: list[str] = field(default_factory=list)

    def add_block(self, type_: str, box, article: str | None, text: str = "") -> str:
        bid = f"b{len(self.blocks) + 1}"
        self.blocks.append({"id": bid, "type": type_, "box": [int(v) for v in box], "article": article,
                            "text": text})
        return bid

    def annotation(self) -> dict:
        return {"page_type": self.page_type,
                "cuts": [{k: int(c[k]) for k in ("x0", "y0", "x1", "y1")} for c in self.cuts],
                "articles": [{"id": a["id"], "polygon": [[int(x), int(y)] for x, y in a["polygon"]]}
                             for a in self.articles]}

    def ground_truth(self) -> dict:
        return {"seed": self.seed, "publisher": self.publisher, "page_type": self.page_type,
                "width": self.width, "height": self.height, "dpi": 300,
                "annotation": self.annotation(), "blocks": self.blocks,
                "reading_order": self.reading_order,
                "article_blocks": {a["id"]: [b["id"] for b in self.blocks if b["article"] == a["id"]]
                                   for a in self.articles},
                "tokens": " ".join(b["text"] for b in self.blocks if b["text"]).split()}


def _headline_lines(text_words: list[str], font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    lines, cur = [], []
    for w in text_words:
        trial = " ".join(cur + [w])
        if cur and font.getlength(trial) > width:
            lines.append(" ".join(cur))
            cur = [w]
            if len(lines) == max_lines:
                return lines
        else:
            cur.append(w)
    if cur and len(lines) < max_lines:
        lines.append(" ".join(cur))
    return lines


class _Builder:
    def __init__(self, style: PublisherStyle, seed: int, page_type: str):
        self.s = style
        self.rng = np.random.default_rng(seed)
        self.L = Layout(seed=seed, publisher=style.name, page_type=page_type)
        left, top, right, bottom = style.margins
        self.left, self.right, self.bottom = left, PAGE_W - right, PAGE_H - bottom
        C, g = style.columns, style.gutter
        colw = (self.right - self.left - (C - 1) * g) / C
        self.col_x0 = [int(round(self.left + c * (colw + g))) for c in range(C)]
        self.col_x1 = [int(round(self.left + c * (colw + g) + colw)) for c in range(C)]
        self.colw = self.col_x1[0] - self.col_x0[0]
        self.line_h = int(round(style.body_size * 1.28))
        self.top = top

    # -- drawing primitives (300 dpi coordinates) --------------------------------------------------
    def rect(self, x0, y0, x1, y1, value=1.0):
        self.L.ops.append(("rect", float(x0), float(y0), float(x1), float(y1), float(value)))

    def hline(self, x0, x1, y, w=None):
        w = w or self.s.rule_width
        self.rect(x0, y - w / 2, x1, y + w / 2)

    def vline(self, x, y0, y1, w=None):
        w = w or self.s.rule_width
        self.rect(x - w / 2, y0, x + w / 2, y1)

    def text_lines(self, kind, x, y, width, n, font=None, size=None, mode="justify", article=None,
                   btype="text", last_short=True, para=True) -> tuple[int, str | None]:
        """``n`` lines from a bank starting at (x, y); returns the bottom y and the block id."""
        if n <= 0:
            return y, None
        font = font or self.s.body_font
        size = size or self.s.body_size
        line_h = int(round(size * 1.28))
        key = _bank_key(kind, font, size, width, line_h, mode)
        texts = []
        next_break = int(self.rng.integers(5, 15))
        for i in range(n):
            if mode == "justify" and ((para and i == next_break) or (last_short and i == n - 1)):
                idx = int(self.rng.integers(BANK_LINES - 6, BANK_LINES))
                next_break = i + int(self.rng.integers(5, 15))
            else:
                idx = int(self.rng.integers(0, BANK_LINES - 6 if mode == "justify" else BANK_LINES))
            self.L.ops.append(("line", float(x), float(y + i * line_h), key, idx))
            texts.append(bank_text(key, idx))
        bid = self.L.add_block(btype, (x, y, x + width, y + n * line_h), article, " ".join(texts))
        return y + n * line_h, bid

    def headline(self, x, y, width, size, words, article=None, inverse=False, font=None, max_lines=2,
                 btype="headline", center=False) -> tuple[int, str]:
        font = font or self.s.headline_font
        f = _font(font_path(font), size)
        while True:
            lines = _headline_lines(words, f, width - (0.5 * size if inverse else 0), max_lines)
            if lines and all(f.getlength(t) <= width for t in lines):
                break
            size = int(size * 0.85)
            f = _font(font_path(font), size)
            if size < 12:
                lines = [words[0][:8]]
                break
        lh = int(round(size * 1.18))
        pad = int(0.25 * size) if inverse else 0
        h = lh * len(lines) + 2 * pad
        self.L.ops.append(("headline", float(x), float(y), int(width), int(h), tuple(lines), font, int(size),
                           bool(inverse), bool(center)))
        if inverse:
            box = (x, y, x + width, y + h)
        else:
            wmax = max(f.getlength(t) for t in lines)
            bx0 = x + (width - wmax) / 2 if center else x
            box = (bx0, y, bx0 + wmax, y + h)
        bid = self.L.add_block(btype, box, article, " ".join(lines))
        return y + h, bid

    def photo(self, x0, y0, x1, y1, article=None) -> str:
        self.L.ops.append(("photo", float(x0), float(y0), float(x1), float(y1), int(self.rng.integers(1 << 30))))
        return self.L.add_block("photo", (x0, y0, x1, y1), article)

    def words(self, n) -> list[str]:
        return [_word(self.rng).strip(",.").capitalize() if i == 0 else _word(self.rng).strip(",.")
                for i in range(n)]

    # -- page furniture ----------------------------------------------------------------------------
    def masthead(self) -> int:
        s = self.s
        y = self.top
        size = s.masthead_size
        y2, _ = self.headline(self.left, y, self.right - self.left, size, s.name.replace("-", " ").title().split(),
                              btype="masthead", center=True, max_lines=1)
        ms = int(s.body_size * 0.8)
        date = f"{int(self.rng.integers(1, 29))}.{int(self.rng.integers(1, 13))}.2026"
        self.headline(self.left, y2 + 6, 600, ms, [f"Nr. {int(self.rng.integers(1, 300))}", date],
                      font=s.body_font, btype="masthead", max_lines=1)
        y3 = y2 + int(ms * 1.3) + 14
        self.hline(self.left, self.right, y3, w=max(3, s.rule_width))
        return y3 + 10

    # -- article pages -----------------------------------------------------------------------------
    def article_page(self):
        s, rng, L = self.s, self.rng, self.L
        C, g, v = s.columns, s.gutter, s.vgap
        area_top = self.masthead() + v // 2
        # cell boundaries: gutter mid-lines; the outer boundary lies half a gutter outside the content
        xb = [self.col_x0[0] - g // 2] + [(self.col_x1[c - 1] + self.col_x0[c]) // 2 for c in range(1, C)] + \
             [self.col_x1[-1] + g // 2]
        y_top, y_bot = area_top, self.bottom + v // 2
        h_min = 430 + 4 * self.line_h
        leaves: list[list[int]] = []

        def split(c0, c1, y0, y1, depth):
            w, h = c1 - c0, y1 - y0
            can_h, can_v = h >= 2 * h_min, w >= 2
            stop = 0.0 if depth == 0 else 0.12 + 0.18 * depth
            if w * h < C * (y_bot - y_top) / 7:
                stop += 0.35
            if (not can_h and not can_v) or rng.random() < stop or depth >= 5:
                leaves.append([c0, c1, y0, y1])
                return
            if can_h and (not can_v or rng.random() < (0.65 if depth == 0 else 0.45)):
                ys = int(rng.integers(y0 + h_min, y1 - h_min + 1)) // 10 * 10
                split(c0, c1, y0, ys, depth + 1)
                split(c0, c1, ys, y1, depth + 1)
            else:
                k = int(rng.integers(c0 + 1, c1))
                split(c0, k, y0, y1, depth + 1)
                split(k, c1, y0, y1, depth + 1)

        split(0, C, y_top, y_bot, 0)
        # articles: one cell each, some merged into L shapes (a wide cell and a narrower one below it)
        groups = [[i] for i in range(len(leaves))]
        owner = list(range(len(leaves)))
        if rng.random() < s.l_shape_prob * 2:
            pairs = [(i, j) for i, a in enumerate(leaves) for j, b in enumerate(leaves)
                     if a[3] == b[2] and a[0] <= b[0] and b[1] <= a[1] and (b[1] - b[0]) < (a[1] - a[0])
                     and (a[0] == b[0] or a[1] == b[1])]
            rng.shuffle(pairs)
            merges = 0
            for i, j in pairs:
                if len(groups[owner[i]]) == 1 and len(groups[owner[j]]) == 1 and merges < 2:
                    gi, gj = owner[i], owner[j]
                    groups[gi] = [i, j]
                    groups[gj] = []
                    owner[j] = gi
                    merges += 1
                    if rng.random() > s.l_shape_prob:
                        break
        groups = [gr for gr in groups if gr]
        groups.sort(key=lambda gr: (leaves[gr[0]][2], leaves[gr[0]][0]))
        cell_art = {}
        for n, gr in enumerate(groups):
            aid = f"a{n + 1}"
            for i in gr:
                cell_art[i] = aid
        self._cuts(leaves, xb, cell_art)
        for n, gr in enumerate(groups):
            self._article(f"a{n + 1}", [leaves[i] for i in gr], v)
        L.reading_order = [a["id"] for a in L.articles]
        # rules on the cuts
        for c in L.cuts:
            if c["x0"] == c["x1"] and s.vertical_rules in ("between", "all"):
                self.vline(c["x0"], max(c["y0"], area_top), min(c["y1"], self.bottom))
            if c["y0"] == c["y1"] and s.horizontal_rules:
                self.hline(max(c["x0"], self.col_x0[0]), min(c["x1"], self.col_x1[-1]), c["y0"])

    def _cuts(self, leaves, xb, cell_art):
        segs = []
        for i, a in enumerate(leaves):
            for j, b in enumerate(leaves):
                if j <= i or cell_art[i] == cell_art[j]:
                    continue
                ax0, ax1, bx0, bx1 = xb[a[0]], xb[a[1]], xb[b[0]], xb[b[1]]
                if ax1 == bx0 or bx1 == ax0:  # side by side
                    x = ax1 if ax1 == bx0 else ax0
                    y0, y1 = max(a[2], b[2]), min(a[3], b[3])
                    if y1 > y0:
                        segs.append(("v", x, y0, y1))
                if a[3] == b[2] or b[3] == a[2]:  # stacked
                    y = a[3] if a[3] == b[2] else a[2]
                    x0, x1 = max(ax0, bx0), min(ax1, bx1)
                    if x1 > x0:
                        segs.append(("h", y, x0, x1))
        merged = []
        for o in ("v", "h"):
            by = {}
            for _, c, s0, s1 in [t for t in segs if t[0] == o]:
                by.setdefault(c, []).append([s0, s1])
            for c, iv in sorted(by.items()):
                iv.sort()
                cur = iv[0]
                for nx in iv[1:]:
                    if nx[0] <= cur[1]:
                        cur[1] = max(cur[1], nx[1])
                    else:
                        merged.append((o, c, *cur))
                        cur = nx
                merged.append((o, c, *cur))
        for o, c, s0, s1 in merged:
            if o == "v":
                self.L.cuts.append({"x0": int(c), "y0": int(s0), "x1": int(c), "y1": int(s1)})
            else:
                self.L.cuts.append({"x0": int(s0), "y0": int(c), "x1": int(s1), "y1": int(c)})

    def _article(self, aid, cells, v):
        s, rng, L = self.s, self.rng, self.L
        top = cells[0]
        c0, c1 = top[0], top[1]
        ax0, ax1 = self.col_x0[c0], self.col_x1[c1 - 1]
        ay0, ay1 = top[2] + v // 2, top[3] - v // 2
        rects = [(ax0, ay0, ax1, ay1)]
        col_bottom = {c: ay1 for c in range(c0, c1)}
        if len(cells) > 1:
            b = cells[1]
            bx0, bx1 = self.col_x0[b[0]], self.col_x1[b[1] - 1]
            rects += [(bx0, ay1, bx1, b[2] + v // 2), (bx0, b[2] + v // 2, bx1, b[3] - v // 2)]
            for c in range(b[0], b[1]):
                col_bottom[c] = b[3] - v // 2
        poly = rects_union_polygon(rects)
        L.articles.append({"id": aid, "polygon": poly, "cells": [list(map(int, c)) for c in cells]})
        span = c1 - c0
        width = ax1 - ax0
        y = ay0
        if s.headline_style == "kicker" and rng.random() < 0.6:
            y, _ = self.headline(ax0, y, width, int(s.body_size * 1.15), [w.upper() for w in self.words(2)],
                                 article=aid, font=s.body_font, max_lines=1, btype="kicker")
            y += 8
        lo, hi = s.headline_sizes
        frac = min(1.0, span / max(1, s.columns) * 1.6)
        size = int(lo + (hi - lo) * frac * rng.uniform(0.6, 1.0))
        y, _ = self.headline(ax0, y, width, size, self.words(int(rng.integers(3, 9))), article=aid,
                             inverse=s.headline_style == "inverse")
        if s.headline_style == "underline":
            y += 12
            self.hline(ax0, ax1, y, w=2)
        y += int(0.6 * s.body_size)
        if span >= 3 and rng.random() < 0.35:  # a sub-headline across the article
            y, _ = self.headline(ax0, y, width, int(size * 0.45), self.words(int(rng.integers(5, 10))),
                                 article=aid, font=s.body_font, max_lines=2, btype="subheadline")
            y += int(0.5 * s.body_size)
        col_start = {c: y for c in range(c0, c1)}
        avail = ay1 - y
        if rng.random() < s.photo_prob and avail > 700:
            k = int(rng.integers(1, span)) if span >= 2 else 1
            left = bool(rng.random() < 0.5)
            pc0 = c0 if left else c1 - k
            px0, px1 = self.col_x0[pc0], self.col_x1[pc0 + k - 1]
            ph = int(avail * rng.uniform(0.25, 0.5))
            self.photo(px0, y, px1, y + ph, article=aid)
            cy, _ = self.text_lines("caption", px0, y + ph + 10, px1 - px0, int(rng.integers(1, 3)),
                                    font=s.caption_font, size=int(s.body_size * 0.85), mode="left", article=aid,
                                    btype="caption", last_short=False, para=False)
            for c in range(pc0, pc0 + k):
                col_start[c] = cy + int(0.6 * s.body_size)
        cols = list(range(c0, c1))
        for i, c in enumerate(cols):
            n = (col_bottom[c] - col_start[c]) // self.line_h
            if i == len(cols) - 1:
                n = int(n * rng.uniform(0.55, 1.0))
            self.text_lines("body", self.col_x0[c], col_start[c], self.colw, n, article=aid)
            if s.vertical_rules == "all" and i > 0:
                self.vline((self.col_x1[c - 1] + self.col_x0[c]) / 2, min(col_start[c], col_start[c - 1]),
                           min(col_bottom[c], col_bottom[c - 1]), w=max(1, s.rule_width - 1))
        if s.boxed:
            d = min(s.gutter, s.vgap) // 2 - 8
            self._frame(poly, d)

    def _frame(self, poly, d):
        pts = np.asarray(poly, np.float64)
        cx, cy = pts.mean(0)
        n = len(pts)
        w = 2
        # offset each axis-parallel edge outwards by d (approximate for concave corners; fine for a frame)
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        for i in range(n):
            (xa, ya), (xb_, yb) = pts[i], pts[(i + 1) % n]
            if ya == yb:
                oy = -d if ya == y0 or ya < cy and ya <= y0 + 1 else d if ya == y1 else 0
                self.hline(min(xa, xb_) - d, max(xa, xb_) + d, ya + oy, w=w)
            else:
                ox = -d if xa == x0 else d if xa == x1 else 0
                self.vline(xa + ox, min(ya, yb) - d, max(ya, yb) + d, w=w)

    # -- non-article pages -------------------------------------------------------------------------
    def section_title(self, title) -> int:
        y = self.masthead() + 20
        y, _ = self.headline(self.left, y, self.right - self.left, int(self.s.headline_sizes[0] * 0.9), [title],
                             btype="heading", max_lines=1)
        self.hline(self.left, self.right, y + 12, w=self.s.rule_width + 1)
        return y + 40

    def ads_page(self):
        s, rng = self.s, self.rng
        y0 = self.section_title("Kleinanzeigen")
        C = s.columns
        cells = []

        def split(c0, c1, a, b, depth):
            if (b - a) > 520 and (rng.random() < 0.6 or c1 - c0 < 2):
                m = int(rng.integers(a + 250, b - 250 + 1))
                split(c0, c1, a, m, depth + 1)
                split(c0, c1, m, b, depth + 1)
            elif c1 - c0 >= 2 and depth < 8:
                k = int(rng.integers(c0 + 1, c1))
                split(c0, k, a, b, depth + 1)
                split(k, c1, a, b, depth + 1)
            else:
                cells.append((c0, c1, a, b))

        split(0, C, y0, self.bottom, 0)
        for c0, c1, a, b in cells:
            x0, x1 = self.col_x0[c0], self.col_x1[c1 - 1]
            a2, b2 = a + 8, b - 8
            inverse = rng.random() < 0.12
            self.rect(x0, a2, x1, a2 + 3)
            self.rect(x0, b2 - 3, x1, b2)
            self.rect(x0, a2, x0 + 3, b2)
            self.rect(x1 - 3, a2, x1, b2)
            y, _ = self.headline(x0 + 12, a2 + 12, x1 - x0 - 24, int(s.body_size * 1.3), self.words(2),
                                 inverse=inverse, max_lines=1, btype="ad-title")
            n = (b2 - 12 - y) // self.line_h
            self.text_lines("ads", x0 + 12, y + 6, x1 - x0 - 24, n, mode="left", btype="ad", para=False,
                            last_short=False)

    def tv_page(self):
        s, rng = self.s, self.rng
        y0 = self.section_title("TV-Programm")
        C = min(s.columns, 5)
        g = s.gutter
        w = (self.right - self.left - (C - 1) * g) // C
        ch = list(rng.permutation(len(_CHANNELS)))
        for c in range(C):
            x = self.left + c * (w + g)
            y = y0
            while y < self.bottom - 400:
                name = _CHANNELS[ch.pop() if ch else 0]
                y, _ = self.headline(x, y, w, int(s.body_size * 1.3), [name], inverse=rng.random() < 0.7,
                                     max_lines=1, btype="channel")
                n = min(int(rng.integers(10, 26)), (self.bottom - y) // self.line_h - 1)
                y, _ = self.text_lines("tv", x, y + 10, w, n, mode="left", btype="programme", para=False,
                                       last_short=False)
                y += 40
            if c > 0:
                self.vline(x - g / 2, y0, self.bottom, w=2)

    def shares_page(self):
        s, rng = self.s, self.rng
        y0 = self.section_title("Börse")
        C = 3
        g = 60
        w = (self.right - self.left - (C - 1) * g) // C
        size = int(s.body_size * 0.8)
        lh = int(round(size * 1.28))
        for c in range(C):
            x = self.left + c * (w + g)
            y, _ = self.headline(x, y0, w, int(s.body_size * 1.1), ["Name", "Kurs", "+/-", "%"], max_lines=1,
                                 btype="table-head")
            self.hline(x, x + w, y + 6, w=3)
            y += 14
            while y + 5 * lh < self.bottom:
                if rng.random() < 0.3:
                    self.rect(x, y, x + w, y + 5 * lh, value=0.12)
                y, _ = self.text_lines("shares", x, y, w, 5, size=size, mode="table", btype="table-row",
                                       para=False, last_short=False)
                self.hline(x, x + w, y + 2, w=1)
                y += 6
            if c > 0:
                self.vline(x - g / 2, y0, self.bottom, w=2)

    def sports_page(self):
        s, rng = self.s, self.rng
        y0 = self.section_title("Sport")
        half = (self.right - self.left - 60) // 2
        for c in range(2):
            x = self.left + c * (half + 60)
            y = y0
            while y < self.bottom - 700:
                y, _ = self.headline(x, y, half, int(s.body_size * 1.4), self.words(3), max_lines=1,
                                     btype="heading")
                y, _ = self.text_lines("results", x, y + 10, half, int(rng.integers(4, 10)), mode="table",
                                       btype="results", para=False, last_short=False)
                y += 30
                self.hline(x, x + half, y, w=2)
                n = min(int(rng.integers(8, 18)), (self.bottom - y - 30) // self.line_h)
                y, _ = self.text_lines("table", x, y + 12, half, n, mode="table", btype="table-row", para=False,
                                       last_short=False)
                self.hline(x, x + half, y + 6, w=2)
                y += 60
        if rng.random() < 0.5:
            self.photo(self.right - 500, self.bottom - 380, self.right, self.bottom)


def layout_page(publisher: str, seed: int, page_type: str = "article") -> Layout:
    """Geometry and ground truth of one page (no pixels)."""
    b = _Builder(STYLES[publisher], seed, page_type)
    {"article": b.article_page, "ads": b.ads_page, "tv": b.tv_page, "shares": b.shares_page,
     "sports": b.sports_page}[page_type]()
    return b.L


# ----------------------------------------------------------------------------------------------- render


def _cover(a0: float, a1: float, n: int) -> tuple[int, np.ndarray]:
    """Start index and per-pixel coverage of the interval [a0, a1) on a pixel grid of size n."""
    i0 = max(0, int(np.floor(a0)))
    i1 = min(n, int(np.ceil(a1)))
    if i1 <= i0:
        return i0, np.zeros(0, np.float32)
    idx = np.arange(i0, i1, dtype=np.float64)
    cov = np.clip(np.minimum(idx + 1, a1) - np.maximum(idx, a0), 0, 1).astype(np.float32)
    return i0, cov


def _paste(canvas: np.ndarray, strip: np.ndarray, x: int, y: int) -> None:
    H, W = canvas.shape
    h, w = strip.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    sub = strip[y0 - y:y1 - y, x0 - x:x1 - x]
    np.maximum(canvas[y0:y1, x0:x1], sub, out=canvas[y0:y1, x0:x1])


@lru_cache(maxsize=256)
def _headline_strip(lines: tuple, font: str, size: int, width: int, height: int, inverse: bool,
                    center: bool) -> np.ndarray:
    f = _font(font_path(font), size)
    img = Image.new("L", (width, height), 255 if inverse else 0)
    d = ImageDraw.Draw(img)
    lh = int(round(size * 1.18))
    pad = int(0.25 * size) if inverse else 0
    for i, t in enumerate(lines):
        x = (width - f.getlength(t)) / 2 if center else (pad if inverse else 0)
        d.text((x, pad + i * lh + int(lh * 0.8)), t, font=f, fill=0 if inverse else 255, anchor="ls")
    return np.asarray(img, np.float32) / 255.0


def _photo(seed: int, w: int, h: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gh, gw = 5, 5
    base = rng.uniform(0.15, 0.9, (gh, gw)).astype(np.float32)
    img = cv2.resize(base, (max(1, w), max(1, h)), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:max(1, h), 0:max(1, w)].astype(np.float32)
    for _ in range(3):  # a few soft blobs (faces, objects)
        cx, cy, r = rng.uniform(0, 1) * w, rng.uniform(0, 1) * h, rng.uniform(0.1, 0.3) * min(w, h) + 1
        img += float(rng.uniform(-0.4, 0.4)) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    return np.clip(img, 0.08, 0.95)


def render(layout: Layout, width: int | None = None, noise: bool = True) -> np.ndarray:
    """Render a layout as a grayscale uint8 page ``width`` pixels wide (default: 300 dpi, 2480)."""
    width = width or layout.width
    s = width / layout.width
    H, W = int(round(layout.height * s)), int(width)
    ink = np.zeros((H, W), np.float32)
    for op in layout.ops:
        kind = op[0]
        if kind == "line":
            _, x, y, key, idx = op
            if s == 1.0:
                _paste(ink, _bank_scaled(key, s, idx), int(x), int(y))
            else:
                (ix, px), (iy, py) = _place(x, s), _place(y, s)
                _paste(ink, _bank_scaled(key, s, idx, px, py), ix, iy)
        elif kind == "rect":
            _, x0, y0, x1, y1, val = op
            i0, cx = _cover(x0 * s, x1 * s, W)
            j0, cy = _cover(y0 * s, y1 * s, H)
            if len(cx) and len(cy):
                sub = ink[j0:j0 + len(cy), i0:i0 + len(cx)]
                np.maximum(sub, val * np.outer(cy, cx), out=sub)
        elif kind == "headline":
            _, x, y, w, h, lines, font, size, inverse, center = op
            strip = _headline_strip(lines, font, size, w, h, inverse, center)
            if s != 1.0:
                (ix, px), (iy, py) = _place(x, s), _place(y, s)
                _paste(ink, _area_resize(_shift(strip, px, py, s), s), ix, iy)
            else:
                _paste(ink, strip, int(x), int(y))
        elif kind == "photo":
            _, x0, y0, x1, y1, seed = op
            xs, ys = int(round(x0 * s)), int(round(y0 * s))
            tex = _photo(seed, int(round(x1 * s)) - xs, int(round(y1 * s)) - ys)
            _paste(ink, tex, xs, ys)
    paper = 244.0
    img = paper - ink * (paper - 18.0)
    if noise:
        rng = np.random.default_rng(layout.seed ^ 0x5EED)
        img += rng.normal(0, 3.0, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------- API


@dataclass
class SynthPage:
    image: np.ndarray          # grayscale uint8 at the requested width
    gt: dict                   # ground truth, coordinates at 300 dpi (``gt["width"]`` x ``gt["height"]``)


def page_spec(seed: int, index: int, publishers: list[str], non_article_share: float) -> tuple[str, str, int]:
    """(publisher, page_type, page_seed) of page ``index`` of a data set drawn with ``seed``."""
    page_seed = (seed * 1_000_003 + index * 7919) % (2**31)
    rng = np.random.default_rng(page_seed)
    pub = publishers[index % len(publishers)]
    kind = "article"
    if rng.random() < non_article_share:
        kind = NON_ARTICLE_TYPES[int(rng.integers(0, len(NON_ARTICLE_TYPES)))]
    return pub, kind, page_seed


def generate_page(publisher: str, seed: int, page_type: str = "article", width: int | None = None,
                  noise: bool = True, scan: float = 0.0) -> SynthPage:
    """One page; ``scan`` > 0 degrades it like a scan of that strength (``scan.LEVELS``: light 0.5, realistic
    1.0, heavy 1.4) and maps the ground truth (cuts, article polygons, block boxes) onto the scan."""
    lay = layout_page(publisher, seed, page_type)
    image, gt = render(lay, width, noise=noise), lay.ground_truth()
    if scan > 0:
        image, gt = scan_page(lay, image, gt, scan)
    return SynthPage(image, gt)


def scan_page(lay: Layout, image: np.ndarray, gt: dict, strength: float) -> tuple[np.ndarray, dict]:
    """A rendered page as a scan of ``strength``: the degraded image and its ground truth mapped exactly."""
    from ml.articles.scan import degrade_image, draw_params, map_annotation, map_blocks

    params = draw_params(lay.seed, strength, aspect=lay.height / lay.width)
    reverse = None
    if params.bleed > 0:   # the other side of the sheet: another page of the same paper
        back = layout_page(lay.publisher, params.bleed_seed, "article")
        reverse = render(back, image.shape[1], noise=False)[:image.shape[0]]
        if reverse.shape != image.shape:
            reverse = cv2.resize(reverse, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA)
    out = degrade_image(image, params, reverse)
    gt = dict(gt)
    gt["annotation"] = map_annotation(gt["annotation"], params.mapping, gt["width"], gt["height"])
    gt["blocks"] = map_blocks(gt["blocks"], params.mapping, gt["width"], gt["height"])
    gt["scan"] = params.to_dict()
    return out, gt


def generate_pages(n: int, seed: int = 0, publishers: list[str] | None = None, width: int | None = 320,
                   non_article_share: float = 0.0, start: int = 0, scan: float = 0.0) -> list[SynthPage]:
    """``n`` pages in memory (deterministic); ``width`` is the render width (None: 300 dpi); ``scan``: the
    strength of the scan degradation (0: clean renders)."""
    pubs = publishers or default_publishers(5)
    out = []
    for i in range(start, start + n):
        pub, kind, ps = page_spec(seed, i, pubs, non_article_share)
        p = generate_page(pub, ps, kind, width, scan=scan)
        p.gt["id"] = f"p{i:05d}"
        out.append(p)
    return out


def write_dataset(out: str | os.PathLike, n_pages: int, seed: int = 0, publishers: list[str] | None = None,
                  work_width: int = 320, full: bool = True, non_article_share: float = 0.2,
                  log=None, scan: float = 0.0) -> dict:
    """Write pages (300 dpi PNG unless ``full`` is False), working copies and ground-truth JSON.

    Layout: ``pages/ID.png`` (2480 x 3508), ``work/ID.png`` (``work_width`` wide, area-downsampled from
    the 300 dpi render, or rendered directly at that width when ``full`` is False), ``gt/ID.json``,
    ``index.json``. ``scan`` > 0 degrades the pages like scans of that strength (before downsampling) and maps
    their ground truth. Returns timing figures.
    """
    out = Path(out)
    pubs = publishers or default_publishers(5)
    for d in ("pages", "work", "gt"):
        (out / d).mkdir(parents=True, exist_ok=True)
    index = []
    t_layout = t_render = t_write = 0.0
    for i in range(n_pages):
        pub, kind, ps = page_spec(seed, i, pubs, non_article_share)
        pid = f"p{i:05d}"
        t0 = time.perf_counter()
        lay = layout_page(pub, ps, kind)
        t1 = time.perf_counter()
        gt = lay.ground_truth()
        if full:
            img = render(lay)
            if scan > 0:
                img, gt = scan_page(lay, img, gt, scan)
            work = cv2.resize(img, (work_width, int(round(img.shape[0] * work_width / img.shape[1]))),
                              interpolation=cv2.INTER_AREA)
        else:
            img, work = None, render(lay, work_width)
            if scan > 0:
                work, gt = scan_page(lay, work, gt, scan)
        t2 = time.perf_counter()
        if img is not None:
            cv2.imwrite(str(out / "pages" / f"{pid}.png"), img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        cv2.imwrite(str(out / "work" / f"{pid}.png"), work)
        gt["id"] = pid
        gt["work_width"] = int(work.shape[1])
        (out / "gt" / f"{pid}.json").write_text(json.dumps(gt))
        t3 = time.perf_counter()
        t_layout, t_render, t_write = t_layout + t1 - t0, t_render + t2 - t1, t_write + t3 - t2
        index.append({"id": pid, "publisher": pub, "page_type": kind})
        if log and (i + 1) % 10 == 0:
            log(f"{i + 1}/{n_pages} pages")
    meta = {"seed": seed, "publishers": pubs, "pages": index, "work_width": work_width, "full": full,
            "non_article_share": non_article_share, "scan": scan}
    (out / "index.json").write_text(json.dumps(meta, indent=1))
    n = max(1, n_pages)
    return {"pages": n_pages, "layout_ms_per_page": 1000 * t_layout / n, "render_ms_per_page": 1000 * t_render / n,
            "write_ms_per_page": 1000 * t_write / n}


def _json_default(o: Any):  # pragma: no cover
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o))
