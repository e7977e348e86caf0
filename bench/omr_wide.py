"""Pieces and warps that ``bench/omr_align.py``'s main set does not use: other composers, piano and dense
scores, small staves, and stronger or smaller photos. Each pair is a pure function of its seed.

Used by ``bench/omr_align.py --wide N``; the pairs are moderate photos (a planar truth), so every one must
align to < 3 px corner error.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ml.omr.config import DEGRADE_PRESETS, RenderConfig
from ml.omr.render import engrave, render_svg
from ml.omr.degrade import degrade
from ml.omr.synth import FONTS, MAX_PAGE, PairSample

# None of these is in ml.omr.synth.PIECES: piano (Chopin, Clara Schumann, Schoenberg, Beethoven's
# quartets as dense four-staff systems), vocal and orchestral-reduction textures, early music.
WIDE_PIECES = (
    "chopin/mazurka06-2", "schumann_clara/polonaise_op1n1", "schoenberg/opus19/movement2",
    "beethoven/opus18no1/movement1", "mozart/k458/movement1", "corelli/opus3no1/1grave",
    "verdi/laDonnaEMobile", "weber/concertino_clarinet", "webern/webern_dormi_jesu_op_16_no_2",
    "luca/gloria", "schumann_robert/dichterliebe_no2", "haydn/opus74no1/movement2",
)


@dataclass(frozen=True)
class Engraving:
    name: str
    scale: int            # verovio music size (%): 40 is the main set's; smaller staves carry less detail
    spacing_system: int   # space between systems: smaller packs more systems on a page


ENGRAVINGS = (Engraving("normal", 40, 12), Engraving("small", 30, 8), Engraving("dense", 34, 4))


@dataclass(frozen=True)
class Warp:
    name: str
    overrides: dict


WARPS = (
    Warp("steep", {"corner_jitter": 0.18, "rotate_deg": 8.0}),              # strong perspective
    Warp("rotated", {"rotate_deg": 15.0, "corner_jitter": 0.06}),          # a page held askew
    Warp("far", {"out_scale": 0.7, "inset": 0.08}),                         # a smaller photo of the page
    Warp("soft", {"blur_sigma": (1.2, 2.0), "jpeg_quality": (40, 60)}),     # out of focus, heavy JPEG
)


def wide_pair(seed: int, dpi: float = 150.0) -> tuple[PairSample, dict]:
    """A moderate pair from the wide set and what was drawn ({piece, engraving, warp})."""
    rng = np.random.default_rng([seed, 99])
    piece = WIDE_PIECES[int(rng.integers(len(WIDE_PIECES)))]
    eng = ENGRAVINGS[int(rng.integers(len(ENGRAVINGS)))]
    warp = WARPS[int(rng.integers(len(WARPS)))]
    cfg = RenderConfig(dpi=dpi, font=FONTS[int(rng.integers(len(FONTS)))], scale=eng.scale,
                       spacing_system=eng.spacing_system)
    pages = engrave(piece, cfg)
    n = min(MAX_PAGE, len(pages) - 1) if len(pages) > 1 else 1
    page = int(rng.integers(n)) + 1
    original = render_svg(pages[page - 1], cfg, piece=piece, page=page)
    # the moderate photo preset with the warp's fields replaced
    photo, mapping = degrade(original.image, seed=int(rng.integers(2**31)),
                             cfg=replace(DEGRADE_PRESETS["moderate"], **warp.overrides))
    info = {"piece": piece, "page": page, "font": cfg.font, "engraving": eng.name, "warp": warp.name}
    return PairSample(original, photo, mapping, "moderate", seed, (piece, page)), info
