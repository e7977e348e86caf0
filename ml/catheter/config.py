"""Configs with two size presets: ``cpu`` (small, 256 px working resolution, trains in minutes on 2 cores)
and ``gpu`` (full 512 px working resolution, wider). ``default_size()`` picks one from the device."""
from __future__ import annotations

from dataclasses import dataclass, field

from ml.common.config import DictConfig
from ml.common.device import default_size


@dataclass
class SynthConfig:
    size: int = 512                 # rendered image side (the issue asks for at least 512x512)
    defect_rate: float = 0.15       # probability that a balloon carries defects (realistic: most are OK)
    max_defects: int = 2            # defects per defective balloon: 1..max_defects
    series_len: int = 1             # shots per balloon (rotation series about the balloon axis)
    setup_weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)  # high_refl, low_vis, artifacts, good


@dataclass
class ModelConfig:
    input_size: int = 256           # working resolution (square); originals are resized to it
    widths: tuple[int, ...] = (16, 24, 32, 48, 64)  # stem (full res), then /2, /4, /8, /16
    head_width: int = 24            # decoder / defect-map width; the map is at 1/2 working resolution


@dataclass
class TrainConfig:
    epochs: int = 40                # upper bound; the time budget usually ends the run first
    steps_per_epoch: int = 0        # 0: len(train) // batch_size
    time_budget_s: float = 720.0    # wall-clock training budget (0 = none); the LR schedule follows
                                    # max(step fraction, time fraction), so a cut run is still annealed
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    image_loss: str = "focal"       # "bce" | "weighted" (pos_weight = neg/pos) | "focal"
    pixel_loss: str = "focal"       # "bce" | "weighted" | "focal"
    pixel_weight: float = 1.0
    oversample: float = 0.5         # 0: sample uniformly; p > 0: draw a defective image with probability p
    crop: int = 128                 # train on crops of this side (working-res px; 0 = whole image)
    crop_on_defect: float = 0.8     # share of crops of defective images centred near a defect
    focal_gamma: float = 2.0
    seed: int = 0
    replay_ratio: float = 1.0       # fine-tune: replay samples drawn per new sample (upper bound)
    finetune_lr: float = 1e-3
    finetune_epochs: int = 3


@dataclass
class FlagConfig:
    window: int = 8                 # local-entropy window (working-res pixels)
    bins: int = 16                  # saliency quantisation levels
    percentile: float = 98.0        # flag threshold = this percentile of clean validation entropies
    objective: str = "verdict"      # saliency of "verdict" (top type score) or "map" (whole defect map);
                                    # "auto": the one with the higher FGSM(4/255) AUROC on validation
                                    # (measured once with "auto": verdict 0.899, map 0.414 -> default "verdict")
    select_eps: float = 4.0         # FGSM epsilon (/255) used by "auto"
    select_n: int = 160             # validation images used by "auto"


@dataclass
class CatheterConfig(DictConfig):
    """``to_dict()`` / ``from_dict()`` (ml.common.config) for the checkpoint's JSON."""

    size: str = "cpu"
    synth: SynthConfig = field(default_factory=SynthConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    flag: FlagConfig = field(default_factory=FlagConfig)


def preset(size: str | None = None) -> CatheterConfig:
    """``cpu``: 256 px working resolution, ~0.1M parameters; ``gpu``: 512 px, wider, more epochs."""
    size = size or default_size()
    if size == "cpu":
        return CatheterConfig(size="cpu")
    if size == "gpu":
        return CatheterConfig(size="gpu", model=ModelConfig(input_size=512, widths=(24, 32, 48, 96, 128),
                                                            head_width=48),
                              train=TrainConfig(epochs=30, batch_size=32, lr=3e-3, crop=0,
                                                 time_budget_s=0.0))
    if size == "tiny":  # tests only
        return CatheterConfig(size="tiny", synth=SynthConfig(size=128),
                              model=ModelConfig(input_size=64, widths=(8, 8, 16, 16, 16), head_width=8),
                              train=TrainConfig(epochs=1, batch_size=4, crop=48, time_budget_s=0.0))
    raise ValueError(f"unknown size preset {size!r}: expected 'cpu', 'gpu' or 'tiny'")
