"""Configuration with two size presets: ``cpu`` (small, low working resolution, trains in minutes on two
cores) and ``gpu`` (full size). ``preset()`` picks the one for the device present."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ml.common.config import DictConfig
from ml.common.device import default_size


@dataclass
class ModelConfig:
    base: int = 12
    depth: int = 4


@dataclass
class TrainConfig:
    work_width: int = 256            # the working copy the FCN sees (pages are resized to this width)
    pages_per_publisher: int = 64    # synthetic training pages per publisher when none are given
    val_pages_per_publisher: int = 12  # for choosing the per-publisher threshold (never trained on)
    filter_pages: int = 320          # pages (all types) for the page filter
    steps: int = 2000                # an upper bound: on the CPU the time budget below ends training first
    crop_height: int | None = 256    # train on bands of the page this high (working pixels); None: whole pages
    batch_size: int = 4
    lr: float = 3e-3
    weight_decay: float = 1e-4
    cut_halfwidth: float = 0.004     # half-width of the cut label band, fraction of the page width
    cut_pos_weight: float = 4.0
    region_weight: float = 0.5
    seed: int = 0
    finetune_steps: int = 240
    finetune_lr: float = 1e-4        # measured: others lost 0.6 cut-F1 points at 1e-4, 2.0 at 3e-4, 5.4 at 1e-3
    replay_fraction: float = 0.75    # share of each fine-tuning batch drawn from the replay sample
    # A publisher with fewer corrected pages than this gets its threshold and layout prior measured on them,
    # its weights kept (bench/articles_shift_finetune.py, 10 pages of a new layout at realistic scans: cut F1
    # 0.488 -> 0.579 in 13 s without steps, 0.591 after 40 steps in 127 s; WiSE-FT chose alpha 0 at lr 1e-3).
    finetune_min_pages: int = 20
    max_minutes: float | None = 17.0  # wall-clock budget of the training loop: the LR schedule follows it, then stops
    scan_share: float = 0.0          # share of generated training and calibration pages degraded as scans
    scan_max: float = 1.4            # their scan strength is drawn in (0, scan_max] (1.0: the "realistic" scan)


@dataclass
class PostConfig:
    tau: float = 0.5                 # default cut threshold (a publisher's own tau overrides it)
    min_len: float = 0.04            # shortest cut, fraction of the page width
    merge_gap: float = 0.03          # collinear pieces closer than this are joined (fraction of width)
    snap: float = 0.04               # endpoints this close to a perpendicular cut are snapped onto it
    min_article_area: float = 0.004  # smallest article, fraction of the page area
    target_precision: float = 0.95   # the per-publisher tau is the lowest one meeting this cut precision
    tau_grid: tuple[float, ...] = tuple(round(0.1 + 0.05 * i, 2) for i in range(17))  # 0.10 .. 0.90
    flatten: bool = True             # scans: even the paper (stains, light, gutter shadow, bleed-through) first
    deskew: bool = True              # scans: measure the skew, segment the straightened page, map results back


@dataclass
class FilterConfig:
    n_trees: int = 200
    max_depth: int = 12
    feature_width: int = 256         # features are computed on the page at this width (= the working copy)
    min_recall: float = 0.995        # the article threshold keeps this recall on out-of-bag pages


@dataclass
class ArticlesConfig(DictConfig):
    """``to_dict()`` / ``from_dict()`` (ml.common.config) for the checkpoint's JSON."""

    size: str = "cpu"
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    post: PostConfig = field(default_factory=PostConfig)
    filter: FilterConfig = field(default_factory=FilterConfig)


def preset(size: str | None = None) -> ArticlesConfig:
    size = size or default_size()
    if size == "cpu":
        return ArticlesConfig(size="cpu")
    if size == "gpu":
        return ArticlesConfig(size="gpu", model=ModelConfig(base=32, depth=5),
                              train=TrainConfig(work_width=640, pages_per_publisher=400, steps=6000, batch_size=16,
                                                lr=2e-3, filter_pages=1000, finetune_steps=600,
                                                crop_height=None, max_minutes=None),
                              filter=FilterConfig(feature_width=640))
    if size == "tiny":  # for tests
        return ArticlesConfig(size="tiny", model=ModelConfig(base=4, depth=3),
                              train=TrainConfig(work_width=128, pages_per_publisher=3, val_pages_per_publisher=1,
                                                filter_pages=30, steps=4, batch_size=2, finetune_steps=2,
                                                finetune_min_pages=0,
                                                crop_height=64, max_minutes=None),
                              post=PostConfig(tau_grid=(0.1, 0.5, 0.9)),
                              filter=FilterConfig(n_trees=10, max_depth=6, feature_width=128))
    raise ValueError(f"unknown size preset {size!r} (cpu, gpu or tiny)")


def with_post(cfg: ArticlesConfig, post: dict | None) -> ArticlesConfig:
    """``cfg`` with its post-processing fields overridden by ``post``."""
    if not post:
        return cfg
    bad = sorted(set(post) - set(cfg.post.__dataclass_fields__))
    if bad:
        raise ValueError(f"unknown post-processing setting(s) {bad}")
    return replace(cfg, post=replace(cfg.post, **post))
