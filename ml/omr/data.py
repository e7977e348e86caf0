"""Samples for the detector (a photo or a render with symbol boxes) and loaders."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ml.omr.transfer import transfer


@dataclass
class Sample:
    """One training/evaluation image.

    ``image``: H x W uint8 grey. ``annotation``: the platform's omr annotation of the work item it came
    from (status, homography original -> photo, point_pairs, reasons), or {} for a clean render.
    ``symbols``: [{"class", "bbox": [x0, y0, x1, y1]}] in this image's pixels. ``meta``: slices
    (kind/degradation, font/publisher, piece, page)."""
    image: np.ndarray
    annotation: dict = field(default_factory=dict)
    symbols: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


def sample_from_page(page, meta: dict | None = None) -> Sample:
    return Sample(page.image, {}, [s.to_dict() for s in page.symbols],
                  {"kind": "render", "font": page.font, "piece": page.piece, "page": page.page, **(meta or {})})


def sample_from_alignment(original_symbols: list, photo: np.ndarray, annotation: dict,
                          meta: dict | None = None) -> Sample:
    """What a worker builds from an operator's accepted (or fixed) pair: the original's boxes moved into the
    photo with the accepted homography."""
    if annotation.get("status") not in ("accepted", "fixed") or annotation.get("homography") is None:
        raise ValueError("only accepted or fixed pairs with a homography give training samples")
    h = np.asarray(annotation["homography"], dtype=np.float64)
    symbols, _ = transfer(original_symbols, h, photo_size=(photo.shape[1], photo.shape[0]))
    return Sample(photo, annotation, symbols, {"kind": "photo", **(meta or {})})


def load_dir(path: str | Path) -> list[Sample]:
    """Samples from a directory written by ``synth.write_pairs`` (photos with transferred truth), by
    ``render.write_pages`` (renders) or by ``bench/make_omr_data.py`` (PNG + JSON with ``kind``). Reads
    with OpenCV only: no renderer is needed to load."""
    import cv2

    path = Path(path)
    out = []
    for meta_file in sorted(path.glob("*.json")):
        if meta_file.name in ("index.json", "deepscores.json", "coco.json"):
            continue
        d = json.loads(meta_file.read_text())
        stem = meta_file.name[:-5]
        if (path / f"{stem}.photo.png").exists():
            if d.get("mapping") is None:
                continue   # wrong-page pairs carry no truth for the photo
            from ml.omr.degrade import PhotoMapping

            mapping = PhotoMapping.from_dict(d["mapping"])
            photo = cv2.imread(str(path / f"{stem}.photo.png"), cv2.IMREAD_GRAYSCALE)
            from ml.omr.transfer import map_boxes

            boxes = map_boxes(np.asarray([s["bbox"] for s in d["symbols"]]).reshape(-1, 4), mapping.page_to_photo)
            syms = [{"class": s["class"], "bbox": b.tolist()} for s, b in zip(d["symbols"], boxes)]
            out.append(Sample(photo, {}, syms, {"kind": d["kind"], "font": d.get("font", ""), "piece": d["piece"]}))
        elif (path / f"{stem}.png").exists():
            img = cv2.imread(str(path / f"{stem}.png"), cv2.IMREAD_GRAYSCALE)
            out.append(Sample(img, {}, d["symbols"], {"kind": d.get("kind", "render"), "font": d.get("font", ""),
                                                       "piece": d.get("piece", ""), "page": d.get("page", 0)}))
    return out


def synthetic_samples(n_pages: int, seed: int = 0, photos: bool = True, kind: str = "moderate") -> list[Sample]:
    """Clean renders and (optionally) simulated photos of them with the truth mapped in."""
    from ml.omr.synth import make_page

    renders = [sample_from_page(make_page(seed + i), {"kind": "render"}) for i in range(n_pages)]
    return with_photos(renders, 1, seed + 10_000, kind) if photos else renders


def with_photos(samples: list[Sample], per_sample: int, seed: int, kind: str = "moderate",
                workers: int = 1) -> list[Sample]:
    """The samples followed by ``per_sample`` simulated photos of each (truth moved in through the exact
    page->photo mapping). Needs only OpenCV, so a machine without the renderer can still train on photos."""
    jobs = [(smp, seed + k * 100_003 + i, kind) for k in range(per_sample) for i, smp in enumerate(samples)]
    return list(samples) + map_in_processes(_photo_of, jobs, workers)


def _photo_of(job: tuple[Sample, int, str]) -> Sample:
    from ml.omr.degrade import degrade
    from ml.omr.transfer import map_boxes

    smp, seed, kind = job
    photo, mapping = degrade(smp.image, seed=seed, cfg=kind)
    boxes = map_boxes(np.asarray([s["bbox"] for s in smp.symbols], np.float64).reshape(-1, 4), mapping.page_to_photo)
    syms = [{"class": s["class"], "bbox": b.tolist()} for s, b in zip(smp.symbols, boxes)]
    return Sample(photo, {}, syms, {**smp.meta, "kind": kind})


def map_in_processes(fn, items: list, workers: int) -> list:
    """``[fn(x) for x in items]``, in ``workers`` forked processes when > 1 (page preparation is numpy work
    that a GPU machine's idle cores can share; forked before CUDA is touched)."""
    if workers <= 1 or len(items) < 2:
        return [fn(x) for x in items]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(workers, len(items)), mp_context=mp.get_context("fork")) as ex:
        return list(ex.map(fn, items, chunksize=1))
