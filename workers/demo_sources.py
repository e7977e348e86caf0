"""Generated demo images per kind: each yields (external_id, [(file name, PNG bytes)], roles, meta).

Each kind's generator lives in its ml package; this module only adapts its output to files.
"""
from __future__ import annotations

import io
from typing import Iterator

import numpy as np
from PIL import Image

Item = tuple[str, list[tuple[str, bytes]], list[str], dict]


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _catheter(count: int, seed: int) -> Iterator[Item]:
    rng = np.random.default_rng(seed)
    for i in range(count):
        shots = []
        for s in range(3):
            y = np.linspace(0, 1, 512)[:, None]
            base = (90 + 60 * np.exp(-((y - 0.5) ** 2) / 0.02) + rng.normal(0, 4, (512, 512))).clip(0, 255)
            shots.append((f"balloon{i:03d}_shot{s}.png", _png(base.astype(np.uint8))))
        yield f"balloon-{i:03d}", shots, ["shot"] * 3, {"line": "A", "series": i}


def _articles(count: int, seed: int) -> Iterator[Item]:
    rng = np.random.default_rng(seed + 1)
    for i in range(count):
        page = np.full((1754, 1240), 245, np.uint8)
        for col in range(4):
            x0 = 60 + col * 285
            for y0 in range(120, 1650, int(rng.integers(180, 400))):
                page[y0:y0 + 8, x0:x0 + 260] = 40
                for line in range(y0 + 24, min(y0 + 170, 1700), 14):
                    page[line:line + 5, x0:x0 + int(rng.integers(180, 260))] = 120
        yield f"courier-p{i + 1:03d}", [(f"courier_p{i + 1:03d}.png", _png(page))], ["page"], {"publisher": "daily-courier"}


def _omr(count: int, seed: int) -> Iterator[Item]:
    rng = np.random.default_rng(seed + 2)
    for i in range(count):
        page = np.full((1754, 1240), 255, np.uint8)
        for staff in range(10):
            top = 140 + staff * 150
            for line in range(5):
                page[top + line * 12, 80:1160] = 0
            for x in rng.integers(120, 1140, 24):
                page[top + int(rng.integers(0, 48)): top + int(rng.integers(0, 48)) + 9, x:x + 12] = 0
        photo = np.asarray(Image.fromarray(page).rotate(float(rng.uniform(-4, 4)), fillcolor=200, expand=False))
        yield (f"chorale-{i + 1:03d}", [(f"chorale{i + 1:03d}.original.png", _png(page)),
                                        (f"chorale{i + 1:03d}.photo.png", _png(photo))], ["original", "photo"],
               {"piece": f"chorale-{i + 1:03d}"})


GENERATORS = {"catheter": _catheter, "articles": _articles, "omr": _omr}


def generate_items(kind: str, count: int, seed: int) -> Iterator[Item]:
    return GENERATORS[kind](count, seed)
