"""Generated demo images per kind: each yields (external_id, [(file name, PNG bytes)], roles, meta).

Each kind's generator lives in its ml package; this module only adapts its output to files.
"""
from __future__ import annotations

import functools
import io
import math
import os
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

Item = tuple[str, list[tuple[str, bytes]], list[str], dict]


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


CATHETER_SHOTS = 3          # a rotation series of three photos per balloon
CATHETER_DEFECT_RATE = 0.35  # more defective balloons than in production, so the demo has defects to correct


def catheter_series(index: int, seed: int, size: int = 512, shots: int = CATHETER_SHOTS,
                    difficulty: str = "realistic", setup: str | None = None, defective: bool | None = None,
                    defect_types: list[str] | None = None):
    """The generator's balloon ``index``: its shots and the exact ground-truth annotation of the series
    (``setup``: one optical set-up for every balloon, default drawn per balloon; ``defective`` and
    ``defect_types`` force what the balloon carries, by default drawn at the demo's rate)."""
    from ml.catheter.synth import SynthConfig, generate_series

    cfg = SynthConfig(size=size, defect_rate=CATHETER_DEFECT_RATE, difficulty=difficulty)
    series = generate_series(seed, index, cfg, n_shots=shots, setup=setup, defective=defective,
                             defect_types=defect_types)
    truth = {"shots": [{"defects": [{"type": d["type"], "box": [float(v) for v in d["box"]]}
                                    for d in shot.defects]} for shot in series]}
    truth["verdict"] = "defect" if any(s["defects"] for s in truth["shots"]) else "ok"
    return series, truth


def catheter_rotation(series) -> dict | None:
    """How the balloon turns between neighbouring shots of a series, as the workspace uses it to place a
    defect copied to the next shot: the angle step (degrees) and the axis and radius in image pixels."""
    if len(series) < 2:
        return None
    return {"step_deg": round(math.degrees(series[1].phase - series[0].phase), 3),
            "axis_y": round(series[0].axis_y, 1), "radius": round(series[0].radius, 1)}


def _catheter_item(series, i: int) -> Item:
    shots = [(f"balloon{i:03d}_shot{k}.png", _png(shot.image)) for k, shot in enumerate(series)]
    meta = {"line": "A", "series": i, "setup": series[0].setup}
    if rotation := catheter_rotation(series):
        meta["rotation"] = rotation
    return f"balloon-{i:03d}", shots, ["shot"] * len(shots), meta


def _catheter(count: int, seed: int, size: int = 512) -> Iterator[Item]:
    for i in range(count):
        series, _ = catheter_series(i, seed, size)
        yield _catheter_item(series, i)


ARTICLES_PUBLISHER = "daily-courier"
ARTICLES_NON_ARTICLE_SHARE = 0.15   # some ads / TV / share-price pages for the page filter


def _scaled_page_annotation(annotation: dict, sx: float, sy: float, width: int, height: int) -> dict:
    def pt(x, y):
        return [round(min(max(x * sx, 0.0), width), 1), round(min(max(y * sy, 0.0), height), 1)]

    cuts = []
    for c in annotation.get("cuts", []):
        (x0, y0), (x1, y1) = pt(c["x0"], c["y0"]), pt(c["x1"], c["y1"])
        if abs(x1 - x0) + abs(y1 - y0) >= 1:
            cuts.append({"x0": x0, "y0": y0, "x1": x1, "y1": y1})
    articles = [{"id": a["id"], "polygon": [pt(x, y) for x, y in a["polygon"]]} for a in annotation.get("articles", [])]
    return {"page_type": annotation.get("page_type", "article"), "cuts": cuts, "articles": articles}


def articles_page(index: int, seed: int, width: int = 1240, publisher: str = ARTICLES_PUBLISHER, scan: float = 0.0):
    """The generator's page ``index``: the grey image at ``width`` and its ground truth in that image's pixels
    (``scan`` > 0: degraded like a scan of that strength, ``ml.articles.scan.LEVELS``)."""
    from ml.articles.synth import generate_pages

    page = generate_pages(1, seed=seed, publishers=[publisher], width=width,
                          non_article_share=ARTICLES_NON_ARTICLE_SHARE, start=index, scan=scan)[0]
    h, w = page.image.shape[:2]
    truth = _scaled_page_annotation(page.gt["annotation"], w / page.gt["width"], h / page.gt["height"], w, h)
    return page.image, truth


def _articles(count: int, seed: int, width: int = 1240) -> Iterator[Item]:
    for i in range(count):
        image, _ = articles_page(i, seed + 1, width)
        yield (f"courier-p{i + 1:03d}", [(f"courier_p{i + 1:03d}.png", _png(image))], ["page"],
               {"publisher": ARTICLES_PUBLISHER})


OMR_SEED_OFFSET = 2


def _omr_cache() -> Path:
    """Where engravings that are not bundled are kept once rendered (rendering takes seconds per page)."""
    return Path(os.environ.get("LOUPE_CACHE_DIR", Path.home() / ".cache" / "loupe")) / "omr-pages"


@functools.lru_cache(maxsize=16)   # the demo asks for each pair twice (files, then truth); tests reuse them
def omr_pair(index: int, seed: int):
    """The demo's OMR item ``index``: a Bach chorale's engraving and a simulated photo (``ml.omr.demo``)."""
    from ml.omr.demo import demo_pair

    return demo_pair(index, seed + OMR_SEED_OFFSET, _omr_cache())


def _omr(count: int, seed: int) -> Iterator[Item]:
    for i in range(count):
        pair = omr_pair(i, seed)
        yield (f"{pair.name}-{pair.original.piece.split('/')[-1]}",
               [(f"{pair.name}.original.png", _png(pair.original.image)), (f"{pair.name}.photo.png", _png(pair.photo))],
               ["original", "photo"], pair.meta())


GENERATORS = {"catheter": _catheter, "articles": _articles, "omr": _omr}


def generate_items(kind: str, count: int, seed: int) -> Iterator[Item]:
    return GENERATORS[kind](count, seed)


GOLDEN_FIRST_INDEX = 100_000   # the golden sets' generator indices: never those of the demo's queue
GOLDEN_OK_EVERY = 3      # catheter: one balloon in three OK, the others defective, each defect type in turn
GOLDEN_SHOTS = 4         # a full turn (4 shots, 90 degrees apart): a defect is in view on at least one shot


def golden_items(kind: str, count: int, seed: int, start: int = 0) -> Iterator[tuple[Item, dict]]:
    """Items ``start``.. ``count - 1`` of a demo golden set with their exact truth, from the same generators
    as the queue but other indices. The gate needs positives of every slice: catheter balloons are OK one
    time in three, else defective with the defect types in turn, photographed all round (``GOLDEN_SHOTS``)
    so that the defect shows."""
    from formats.catheter.annotation import DEFECT_TYPES

    for k in range(start, count):
        i = GOLDEN_FIRST_INDEX + k
        if kind == "catheter":
            ok = k % GOLDEN_OK_EVERY == 0
            kinds = None if ok else [DEFECT_TYPES[(k - k // GOLDEN_OK_EVERY - 1) % len(DEFECT_TYPES)]]
            series, truth = catheter_series(i, seed, shots=GOLDEN_SHOTS, defective=not ok, defect_types=kinds)
            external_id, files, roles, meta = _catheter_item(series, i)
            yield (f"golden-{external_id}", files, roles, meta), truth
        elif kind == "articles":
            image, truth = articles_page(i, seed + 1)
            yield (f"golden-courier-p{i}", [(f"courier_golden_p{i}.png", _png(image))], ["page"],
                   {"publisher": ARTICLES_PUBLISHER}), truth
        elif kind == "omr":
            pair = omr_pair(i, seed)
            yield (f"golden-{pair.name}-{i}", [(f"{pair.name}.original.png", _png(pair.original.image)),
                                               (f"{pair.name}.photo.png", _png(pair.photo))],
                   ["original", "photo"], pair.meta()), pair.truth()


def ground_truth(kind: str, index: int, seed: int) -> dict | None:
    """The exact annotation of generated item ``index`` in its images' pixels (None: the kind has none here).

    The demo seeds part of each project as an accepted golden set from it, so the gate has a frozen
    reference from the start."""
    if kind == "catheter":
        return catheter_series(index, seed)[1]
    if kind == "articles":
        return articles_page(index, seed + 1)[1]
    if kind == "omr":
        return omr_pair(index, seed).truth()
    return None
