"""Samples (a page image + the platform's annotation) and the FCN's training targets.

A ``Sample`` holds a grayscale page at any resolution (a 300 dpi scan or a working copy) and its annotation
in the platform's format, whose coordinates are in the pixels of the *original* page: ``original_size``
says how big that is (None: the image itself is the original). ``meta`` may carry the generator's blocks
(headline boxes give the headline class); corrected pages from operators have no blocks, and their
article area is then trained as "body or headline".
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from ml.articles.synth import SynthPage, generate_pages

HEADLINE_BLOCKS = ("headline", "kicker", "subheadline")
UNKNOWN_ARTICLE = 3   # region label: inside an article, body or headline unknown
IGNORE = 255


@dataclass
class Sample:
    image: np.ndarray
    annotation: dict
    original_size: tuple[int, int] | None = None  # (width, height) of the page the coordinates refer to
    publisher: str = "unknown"
    page_id: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        if self.original_size:
            return int(self.original_size[0]), int(self.original_size[1])
        return int(self.image.shape[1]), int(self.image.shape[0])

    @property
    def page_type(self) -> str:
        return self.annotation.get("page_type", "article")

    @classmethod
    def from_synth(cls, page: SynthPage) -> "Sample":
        gt = page.gt
        return cls(image=page.image, annotation=gt["annotation"], original_size=(gt["width"], gt["height"]),
                   publisher=gt["publisher"], page_id=gt.get("id", ""),
                   meta={"blocks": gt["blocks"], "tokens": gt["tokens"], "reading_order": gt["reading_order"],
                         **({"scan": gt["scan"]} if gt.get("scan") else {})})


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        code = cv2.COLOR_RGBA2GRAY if image.shape[2] == 4 else cv2.COLOR_RGB2GRAY
        image = cv2.cvtColor(image, code)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return image


def work_size(width: int, height: int, work_width: int) -> tuple[int, int]:
    return work_width, max(8, int(round(height * work_width / width)))


def to_work(image: np.ndarray, work_width: int) -> np.ndarray:
    """Area-resize a page to the working width (keeps the aspect ratio)."""
    image = to_gray(image)
    h, w = image.shape
    if w == work_width:
        return image
    return cv2.resize(image, work_size(w, h, work_width), interpolation=cv2.INTER_AREA)


def pad_to(a: np.ndarray, multiple: int, value=0) -> np.ndarray:
    h, w = a.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        a = np.pad(a, ((0, ph), (0, pw)) + ((0, 0),) * (a.ndim - 2), constant_values=value)
    return a


def targets(sample: Sample, work_width: int, cut_halfwidth: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Working-copy ink (float32 in [0, 1]), cut target (uint8 0/1) and region labels (uint8) for a sample."""
    img = to_work(sample.image, work_width)
    h, w = img.shape
    ow, oh = sample.size
    sx, sy = w / ow, h / oh
    ink = (255.0 - img.astype(np.float32)) / 255.0
    cut = np.zeros((h, w), np.uint8)
    t = 2 * max(1, int(round(cut_halfwidth * w))) + 1
    for c in sample.annotation.get("cuts", []):
        p0 = (int(round(c["x0"] * sx)), int(round(c["y0"] * sy)))
        p1 = (int(round(c["x1"] * sx)), int(round(c["y1"] * sy)))
        cv2.line(cut, p0, p1, 1, thickness=t, lineType=cv2.LINE_8)
    region = np.zeros((h, w), np.uint8)
    blocks = sample.meta.get("blocks")
    fill = 1 if blocks is not None else UNKNOWN_ARTICLE
    for a in sample.annotation.get("articles", []):
        p = np.round(np.asarray(a["polygon"], np.float64) * [sx, sy]).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(region, [p], fill)
    for b in blocks or []:
        if b["type"] in HEADLINE_BLOCKS and b.get("article"):
            x0, y0, x1, y1 = b["box"]
            region[int(round(y0 * sy)):int(round(y1 * sy)), int(round(x0 * sx)):int(round(x1 * sx))] = 2
    return ink, cut, region


def load_dir(path: str | Path, use: str = "work", page_types: Sequence[str] | None = None,
             publishers: Sequence[str] | None = None, limit: int | None = None) -> list[Sample]:
    """Samples from a directory written by ``synth.write_dataset`` (``use``: ``work`` copies or 300 dpi
    ``pages``)."""
    path = Path(path)
    index = json.loads((path / "index.json").read_text())
    out = []
    for entry in index["pages"]:
        if page_types and entry["page_type"] not in page_types:
            continue
        if publishers and entry["publisher"] not in publishers:
            continue
        gt = json.loads((path / "gt" / f"{entry['id']}.json").read_text())
        img_path = path / use / f"{entry['id']}.png"
        if not img_path.exists():
            img_path = path / "work" / f"{entry['id']}.png"
        img = cv2.imread(str(img_path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise FileNotFoundError(f"cannot read page image {img_path}")
        out.append(Sample(image=img, annotation=gt["annotation"], original_size=(gt["width"], gt["height"]),
                          publisher=gt["publisher"], page_id=gt["id"],
                          meta={"blocks": gt["blocks"], "tokens": gt["tokens"],
                                "reading_order": gt["reading_order"],
                                **({"scan": gt["scan"]} if gt.get("scan") else {})}))
        if limit and len(out) >= limit:
            break
    return out


RENDER_SCALES = (1.0, 1.25, 1.6, 2.0)


def synth_samples(n_per_publisher: int, publishers: Sequence[str], seed: int, width: int,
                  non_article_share: float = 0.0, vary_resolution: bool = False, scan_share: float = 0.0,
                  scan_max: float = 1.4) -> list[Sample]:
    """Synthetic samples rendered at ``width``; with ``vary_resolution`` each page is rendered at one of
    ``RENDER_SCALES`` x ``width`` (in turn), so a model sees pages that reach it through a resize, as working
    copies made from bigger scans do (the filter's handcrafted features are sensitive to this). A share
    ``scan_share`` of the pages is degraded as scans of a strength drawn in (0, ``scan_max``]."""
    n = n_per_publisher * len(publishers)
    if scan_share > 0:
        rng = np.random.default_rng([seed, 0x5CA9])
        strengths = np.where(rng.random(n) < scan_share, rng.uniform(0.1, 1.0, n) * scan_max, 0.0)
        pages = []
        for i in range(n):
            w = int(round(width * RENDER_SCALES[i % len(RENDER_SCALES)])) if vary_resolution else width
            pages += generate_pages(1, seed=seed, publishers=list(publishers), width=w,
                                    non_article_share=non_article_share, start=i, scan=float(strengths[i]))
    elif not vary_resolution:
        pages = generate_pages(n, seed=seed, publishers=list(publishers), width=width,
                               non_article_share=non_article_share)
    else:
        pages = []
        for i in range(n):
            w = int(round(width * RENDER_SCALES[i % len(RENDER_SCALES)]))
            pages += generate_pages(1, seed=seed, publishers=list(publishers), width=w,
                                    non_article_share=non_article_share, start=i)
    return [Sample.from_synth(p) for p in pages]

