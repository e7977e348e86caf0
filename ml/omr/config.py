"""Dataclass configs. Two detector size presets, ``preset("cpu")`` (small, trains in minutes on 2 cores) and
``preset("gpu")``; the detector's config goes to and from the checkpoint's JSON with ``to_dict`` / ``from_dict``."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ml.common.config import DictConfig
from ml.common.device import default_size


@dataclass(frozen=True)
class RenderConfig:
    dpi: float = 150.0
    page_width_mm: float = 210.0
    page_height_mm: float = 297.0
    scale: int = 40               # verovio music size (percent)
    font: str = "Leipzig"         # SMuFL font; different fonts stand in for different publishers
    id_seed: int = 1              # verovio xmlIdSeed: identical ids (and output) for every run
    spacing_system: int = 12

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DegradeConfig:
    """"Print and photograph" simulation. All amplitudes are maxima; each photo draws its own values."""
    corner_jitter: float = 0.12   # page corners moved up to this share of the frame
    inset: float = 0.04           # page inset in the frame before jitter
    keep_inside: bool = True      # keep the whole page inside the frame (no partial page)
    crop: float = 0.0             # share of the page cut off one side (partial page), 0 = none
    curl: float = 0.0             # page curl amplitude in pixels (non-planar), 0 = none
    curl_sides: tuple[str, ...] = ("left", "right", "top", "bottom")
    rotate_deg: float = 4.0
    blur_sigma: tuple[float, float] = (0.3, 1.2)
    noise_sigma: tuple[float, float] = (2.0, 6.0)
    jpeg_quality: tuple[int, int] = (55, 90)
    lighting: float = 0.35        # max darkening of the lighting gradient
    shadow: float = 0.3           # max darkness of a soft shadow (0 = none)
    paper_texture: float = 8.0    # grey levels of paper grain
    out_scale: float = 1.0        # photo frame size relative to the page image


DEGRADE_PRESETS = {
    "clean": DegradeConfig(corner_jitter=0.0, rotate_deg=0.0, blur_sigma=(0.0, 0.0), noise_sigma=(0.0, 0.0),
                           jpeg_quality=(100, 100), lighting=0.0, shadow=0.0, paper_texture=0.0),
    "moderate": DegradeConfig(),
    "curl": DegradeConfig(curl=14.0),
    "partial": DegradeConfig(crop=0.3, keep_inside=False),
}


@dataclass(frozen=True)
class AlignConfig:
    mode: str = "fast"               # fast (ORB) | precise (SIFT [+ ECC])
    orb_features: int = 3000
    orb_levels: int = 4              # ORB pyramid levels (scale factor 1.2 each)
    # fast mode: a second look with twice the features and levels at a result that is not accepted, or whose
    # music covers less of the page's height than this share (the homography extrapolates to the page's corners)
    second_look: bool = True
    second_look_extent: float = 0.6
    sift_features: int = 6000
    ratio: float = 0.8
    ransac_threshold: float = 3.0
    estimator: str = "magsac"        # magsac | ransac
    ecc: bool = False                # precise mode: ECC refinement on the ink (off: SIFT alone measured better)
    max_side: int = 0                # downscale inputs whose longer side exceeds this (0 = never)
    grid: tuple[int, int] = (4, 6)   # coverage grid (cols, rows)
    # verdict thresholds
    min_inliers: int = 30
    min_inlier_ratio: float = 0.15
    wrong_page_ncc: float = 0.3
    review_ncc: float = 0.9
    review_shift: float = 1.5         # px of residual local shift of a staff system
    review_bias: float = 1.5          # px of median residual in a grid cell
    min_coverage: float = 0.5
    min_visible: float = 0.97


@dataclass(frozen=True)
class DetectorConfig(DictConfig):
    size: str = "cpu"
    widths: tuple[int, ...] = (8, 16, 32, 64, 128)   # full-res branch, half-res stem/decoder, encoder levels
    energy_levels: int = 8
    crop: int = 192
    batch_size: int = 4
    lr: float = 2e-3
    steps: tuple[int, ...] = (300, 300, 200, 200, 2000)   # class, energy, box, energy again, all together
    energy_threshold: int = 3       # energy level from which a pixel belongs to a symbol centre
    min_component: int = 2
    margin_width: int = 160         # width of the margin strip for rare-symbol patches (0 = off)
    rare_patches: int = 24
    margin_share: float = 0.2       # share of training crops cut from the margin strip
    dpi: float = 150.0
    classes: tuple[str, ...] = ()


DETECTOR_PRESETS = {
    "cpu": DetectorConfig(),
    "gpu": DetectorConfig(size="gpu", widths=(16, 48, 96, 192, 384), crop=512, batch_size=16,
                          steps=(300, 300, 200, 200, 3000), rare_patches=48),
    "tiny": DetectorConfig(size="tiny", steps=(2, 2, 2, 2, 4), crop=64, batch_size=2, margin_width=48,
                           rare_patches=4),   # tests only
}


def preset(size: str | None = None, **overrides) -> DetectorConfig:
    """The detector's size preset (default: the device's), with fields overridden."""
    size = size or default_size()
    if size not in DETECTOR_PRESETS:
        raise ValueError(f"unknown size preset {size!r}: expected one of {', '.join(DETECTOR_PRESETS)}")
    return replace(DETECTOR_PRESETS[size], **overrides)


__all__ = ["RenderConfig", "DegradeConfig", "DEGRADE_PRESETS", "AlignConfig", "DetectorConfig",
           "DETECTOR_PRESETS", "preset"]
