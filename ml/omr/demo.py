"""Demo pairs from real pieces: Bach chorales from music21's corpus, engraved, with simulated phone photos and
a share of hard cases (page curl, partial page, the wrong page photographed), each with its exact truth.

Engraving is the slow part (music21 + verovio + cairosvg, seconds per page on a small CPU), so the pages
come from, in order: a cache folder, the bundled pre-rendered pages (``ml/omr/bundled``: the demo's
chorales, small PNG + JSON), or the renderer, whose output then goes to the cache. A machine without the
renderer's libraries uses the bundled pages; photos are simulated with OpenCV only. Deterministic for a seed.

    python -m ml.omr.demo bundle      # re-render the bundled pages (needs music21, verovio, cairosvg)
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.omr.config import RenderConfig
from ml.omr.degrade import PhotoMapping
from ml.omr.render import Page, Symbol

BUNDLED = Path(__file__).resolve().parent / "bundled"
# One-page chorales (each fills one A4 page at 150 dpi), each engraved in its own font ("publisher").
CHORALES = (("bach/bwv66.6", "Leipzig"), ("bach/bwv1.6", "Bravura"), ("bach/bwv10.7", "Leland"),
            ("bach/bwv101.7", "Leipzig"), ("bach/bwv102.7", "Bravura"), ("bach/bwv104.6", "Leland"))
# The demo's mix per eight items: mostly ordinary photos, and one of each hard case for the verdicts.
KIND_CYCLE = ("moderate", "moderate", "curl", "moderate", "partial", "moderate", "wrong", "moderate")
DPI = 150.0


@dataclass
class DemoPair:
    name: str
    original: Page
    photo: np.ndarray
    mapping: PhotoMapping | None    # None: the photo shows another page
    kind: str                       # moderate | curl | partial | wrong
    photo_of: str                   # the piece actually photographed

    def truth(self) -> dict:
        """The operator's right answer in the omr annotation format (original -> photo, original pixels)."""
        if self.kind == "wrong":
            return {"status": "rejected", "homography": None, "point_pairs": [], "reasons": ["wrong page"]}
        if self.kind == "curl":   # no homography can map a curled page: the answer is a rejection
            return {"status": "rejected", "homography": None, "point_pairs": [], "reasons": ["page curl"]}
        h = [[float(v) for v in row] for row in (self.mapping.homography / self.mapping.homography[2, 2])]
        return {"status": "accepted", "homography": h, "point_pairs": [],
                "reasons": ["partial page"] if self.kind == "partial" else []}

    def meta(self) -> dict:
        """What the item keeps: the piece and the original's symbols (the exports and the detector's ground
        truth move them to the photo through the accepted homography)."""
        return {"piece": self.original.piece, "page": self.original.page, "font": self.original.font,
                "case": self.kind, "dpi": self.original.dpi,
                "symbols": [{"class": s.cls, "bbox": [round(v, 2) for v in s.bbox]} for s in self.original.symbols],
                "staff_lines": [round(y, 2) for y in self.original.staff_lines]}


def _stem(piece: str, font: str) -> str:
    return f"{piece.replace('/', '_')}-{font}-p1"


def _read(folder: Path, stem: str) -> Page | None:
    import cv2

    png, meta = folder / f"{stem}.png", folder / f"{stem}.json"
    if not (png.exists() and meta.exists()):
        return None
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    d = json.loads(meta.read_text())
    symbols = [Symbol(s["class"], tuple(s["bbox"])) for s in d["symbols"]]
    return Page(image, symbols, d["dpi"], d["piece"], d["page"], d["font"], staff_lines=d["staff_lines"])


def _write(folder: Path, stem: str, page: Page) -> None:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / f"{stem}.png"), page.image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    record = {"piece": page.piece, "page": page.page, "font": page.font, "dpi": page.dpi,
              "symbols": [{"class": s.cls, "bbox": [round(v, 2) for v in s.bbox]} for s in page.symbols],
              "staff_lines": [round(y, 2) for y in page.staff_lines]}
    (folder / f"{stem}.json").write_text(json.dumps(record, separators=(",", ":")))


def chorale_page(piece: str, font: str, cache_dir: Path | None = None) -> Page:
    """The first page of ``piece`` engraved in ``font``: cached, bundled, or rendered (then cached)."""
    stem = _stem(piece, font)
    for folder in ([cache_dir] if cache_dir else []) + [BUNDLED]:
        page = _read(folder, stem)
        if page is not None:
            return page
    try:
        from ml.omr.synth import render
    except ImportError as exc:   # no music21 / verovio / cairosvg here, and the page is not bundled
        raise RuntimeError(f"{piece} ({font}) is neither bundled nor cached, and the renderer is missing: {exc}")
    page = render(piece, 1, RenderConfig(dpi=DPI, font=font))
    if cache_dir:
        _write(cache_dir, stem, page)
    return page


def demo_pair(index: int, seed: int, cache_dir: Path | None = None) -> DemoPair:
    """Item ``index`` of the demo: its chorale, its kind from ``KIND_CYCLE`` and its photo (seeded by both)."""
    from ml.omr.synth import photograph

    piece, font = CHORALES[index % len(CHORALES)]
    kind = KIND_CYCLE[index % len(KIND_CYCLE)]
    original = chorale_page(piece, font, cache_dir)
    rng = np.random.default_rng([seed, index])
    shown_piece, shown = piece, None
    if kind == "wrong":   # the next chorale was photographed instead
        shown_piece, shown_font = CHORALES[(index + 1) % len(CHORALES)]
        shown = chorale_page(shown_piece, shown_font, cache_dir)
    photo, mapping = photograph(original, kind, rng, shown)
    return DemoPair(f"chorale{index + 1:03d}", original, photo, mapping, kind, shown_piece)


def bundle(out: Path = BUNDLED) -> list[str]:
    """Render every page the demo uses into ``out``."""
    from ml.omr.synth import render

    written = []
    for piece, font in CHORALES:
        _write(out, _stem(piece, font), render(piece, 1, RenderConfig(dpi=DPI, font=font)))
        written.append(_stem(piece, font))
    return written


if __name__ == "__main__":
    if sys.argv[1:] != ["bundle"]:
        raise SystemExit(__doc__)
    print("\n".join(bundle()))
