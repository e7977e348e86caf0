"""Deterministic generator: engraved pages (originals) and simulated photos with the exact ground truth.

Every sample is a pure function of (seed, kind): the piece, page, font ("publisher") and degradation are
drawn from ``numpy.random.default_rng(seed)``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ml.omr.config import DEGRADE_PRESETS, RenderConfig
from ml.omr.degrade import PhotoMapping, degrade
from ml.omr.render import Page, engrave, render_svg

# Pieces from music21's bundled corpus (MusicXML, so they engrave fast), with various instrumentation.
PIECES = (
    "mozart/k80", "haydn/opus74no1/movement1", "joplin/maple_leaf_rag", "schumann_robert/opus41no1/movement1",
    "beethoven/opus59no2/movement1", "handel/rinaldo/Lascia_chio_pianga", "schubert/lindenbaum",
    "monteverdi/madrigal.3.1", "haydn/opus1no1/movement1", "mozart/k155/movement1",
    "beach/prayer_of_a_tired_child", "liliuokalani/aloha_oe", "johnson_j_r/lift_every_voice", "cpebach/h186",
    "bach/bwv7.7",
)
# Pieces no detector here is trained on: its held-out evaluation (bench/make_omr_data.py, the shipped detector)
EVAL_PIECES = ("schubert/lindenbaum", "beach/prayer_of_a_tired_child", "cpebach/h186")
TRAIN_PIECES = tuple(p for p in PIECES if p not in EVAL_PIECES)
FONTS = ("Leipzig", "Bravura", "Leland", "Petaluma", "Gootville")   # stand-ins for publishers
MAX_PAGE = 4          # pages drawn from the first MAX_PAGE of each piece, never its last (full pages)
KINDS = ("moderate", "curl", "partial", "wrong", "clean")


@dataclass
class PairSample:
    """One work item: original rendering + photo, with the truth."""
    original: Page
    photo: np.ndarray
    mapping: PhotoMapping | None          # None for a wrong-page pair (the photo shows another page)
    kind: str                             # moderate | curl | partial | wrong | clean
    seed: int
    photo_of: tuple[str, int] = ("", 0)   # (piece, page) actually photographed

    @property
    def expected_verdict(self) -> str:
        return {"moderate": "accept", "clean": "accept", "curl": "review", "partial": "review",
                "wrong": "reject"}[self.kind]

    def truth(self) -> dict:
        return {"kind": self.kind, "seed": self.seed, "piece": self.original.piece, "page": self.original.page,
                "font": self.original.font, "photo_of": list(self.photo_of),
                "expected_verdict": self.expected_verdict,
                "mapping": self.mapping.to_dict() if self.mapping else None,
                "nonplanar_px": nonplanar_residual(self.original, self.mapping) if self.mapping else None}


def pick_page(rng: np.random.Generator, pieces=PIECES, fonts=FONTS,
              dpi: float = 150.0) -> tuple[str, int, RenderConfig]:
    piece = pieces[int(rng.integers(len(pieces)))]
    cfg = RenderConfig(dpi=dpi, font=fonts[int(rng.integers(len(fonts)))])
    total = len(engrave(piece, cfg))
    # full pages: the last page of a piece is often a few systems at the top of blank paper
    n = min(MAX_PAGE, total - 1) if total > 1 else 1
    return piece, int(rng.integers(n)) + 1, cfg


def render(piece: str, page: int, cfg: RenderConfig) -> Page:
    return render_svg(engrave(piece, cfg)[page - 1], cfg, piece=piece, page=page)


def make_page(seed: int, dpi: float = 150.0, pieces=PIECES, fonts=FONTS) -> Page:
    rng = np.random.default_rng([seed, 7])
    piece, page, cfg = pick_page(rng, pieces, fonts, dpi)
    return render(piece, page, cfg)


def make_pair(seed: int, kind: str = "moderate", dpi: float = 150.0, pieces=PIECES, fonts=FONTS) -> PairSample:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    piece, page, cfg = pick_page(rng, pieces, fonts, dpi)
    original = render(piece, page, cfg)
    if kind == "wrong":
        # another page: of the same piece when it has more than one, else of another piece (same font)
        n = min(MAX_PAGE, len(engrave(piece, cfg)))
        if n > 1:
            other_piece, other = piece, (page % n) + 1
        else:
            other_piece = next(p for p in pieces[int(rng.integers(len(pieces))):] + tuple(pieces) if p != piece)
            other = 1
        shown = render(other_piece, other, cfg)
        photo, _ = photograph(original, kind, rng, shown)
        return PairSample(original, photo, None, kind, seed, (other_piece, other))
    photo, mapping = photograph(original, kind, rng)
    return PairSample(original, photo, mapping, kind, seed, (piece, page))


def photograph(original: Page, kind: str, rng: np.random.Generator,
               shown: Page | None = None) -> tuple[np.ndarray, PhotoMapping | None]:
    """A simulated photo of ``original`` for ``kind`` and its exact mapping; for "wrong", a photo of ``shown``
    (another page) and no mapping. Seeds are drawn from ``rng``."""
    if kind == "wrong":
        if shown is None:
            raise ValueError("a wrong-page photo needs the page that is photographed instead")
        photo, _ = degrade(shown.image, seed=int(rng.integers(2**31)), cfg="moderate")
        return photo, None
    dcfg = DEGRADE_PRESETS[kind]
    if kind == "curl":
        # curl a side that holds music: a curl over blank paper changes nothing an operator could check
        boxes = original.boxes()
        W, H = original.size
        low = boxes[:, 3].max() / H if len(boxes) else 1.0
        sides = ("left", "right", "top") + (("bottom",) if low > 0.75 else ())
        dcfg = replace(dcfg, curl_sides=sides)
    for _attempt in range(8):
        photo, mapping = degrade(original.image, seed=int(rng.integers(2**31)), cfg=dcfg)
        if kind != "curl" or nonplanar_residual(original, mapping) >= MIN_CURL_RESIDUAL:
            break
    return photo, mapping


MIN_CURL_RESIDUAL = 2.0   # px: a "curl" sample must move some symbols this far from any planar fit


def nonplanar_residual(original: Page, mapping: PhotoMapping) -> float:
    """Largest distance (photo px) between where symbols really are and the best homography's prediction:
    how much of the page curl lands on the music."""
    import cv2

    boxes = original.boxes()
    if len(boxes) < 4:
        return 0.0
    centres = np.c_[(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2]
    truth = mapping.page_to_photo(centres)
    h, _ = cv2.findHomography(centres, truth, 0)
    from ml.omr.degrade import apply_h

    return float(np.linalg.norm(apply_h(h, centres) - truth, axis=1).max())


def write_pairs(out: str | Path, n: int, kinds=("moderate",), seed: int = 0, dpi: float = 150.0) -> list[dict]:
    """Write n pairs per kind: ``<name>.original.png``, ``<name>.photo.jpg``, ``<name>.json`` (symbols in
    original pixels, the truth mapping, the expected verdict)."""
    from PIL import Image

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for kind in kinds:
        for i in range(n):
            s = make_pair(seed + i, kind, dpi)
            name = f"{kind}_{seed + i:05d}"
            Image.fromarray(s.original.image).save(out / f"{name}.original.png", compress_level=3)
            Image.fromarray(s.photo).save(out / f"{name}.photo.png", compress_level=3)
            meta = {**s.truth(), "symbols": s.original.annotation()["symbols"], "name": name}
            (out / f"{name}.json").write_text(json.dumps(meta))
            index.append({"name": name, "kind": kind, "expected_verdict": s.expected_verdict})
    (out / "index.json").write_text(json.dumps(index, indent=1))
    return index


def degrade_page(page: Page, seed: int, kind: str = "moderate") -> tuple[np.ndarray, PhotoMapping]:
    cfg = DEGRADE_PRESETS[kind]
    return degrade(page.image, seed=seed, cfg=replace(cfg))
