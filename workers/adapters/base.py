"""What the loop needs from a kind's model, in one interface. Each kind implements it in one module.

The loop (inference, training, gate) is generic: it reads items and annotations from the database, hands
the adapter plain arrays and annotations, and stores what comes back. Coordinates: annotations stored by
the platform are in ORIGINAL pixels; the adapter gets working copies (smaller) and their scale, and must
return annotations in original pixels.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

Log = Callable[[str], None]


@dataclass
class ItemImages:
    """One work item as a model sees it: its working copies and, for training, its accepted annotation."""

    item_id: int
    scope_key: str
    images: list[np.ndarray]                 # working copies, in asset order (RGB or grey uint8)
    original_sizes: list[tuple[int, int]]    # (width, height) of each original
    roles: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    annotation: dict[str, Any] | None = None  # in original pixels
    revision_id: int | None = None

    def scales(self) -> list[tuple[float, float]]:
        """Per image: (sx, sy) from original to working-copy pixels."""
        return [(im.shape[1] / w, im.shape[0] / h) for im, (w, h) in zip(self.images, self.original_sizes)]


@dataclass
class Proposal:
    annotation: dict[str, Any]   # the kind's annotation format, original pixels
    scores: dict[str, Any]
    uncertainty: float           # [0, 1], what the uncertainty queue orders by
    # Per image: raster layers for the item page (name -> H x W x 4 uint8 RGBA, the image's aspect ratio),
    # e.g. {"defect": ..., "saliency": ...}; an empty dict where none was made. The worker stores them as PNGs.
    rasters: list[dict[str, np.ndarray]] = field(default_factory=list)


@dataclass
class Evaluation:
    """Golden-set figures: overall, per slice, and the name of the metric the gate compares."""

    overall: dict[str, Any]
    slices: dict[str, dict[str, Any]]
    primary: str
    # Per golden item, where the kind provides them: {"item", "slices", "value", "label", "score"}, a
    # slice's figure being the mean ``value`` of its items (webapp.mlops.comparison reads them).
    items: list[dict[str, Any]] | None = None
    # The curve the operating threshold is chosen on where it is not the per-item score (articles: cut
    # precision and recall over the cut threshold tau): {"thresholds", "precision", "recall", "name"}.
    threshold_curve: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"overall": self.overall, "slices": self.slices, "primary": self.primary}
        if self.items:
            out["items"] = self.items
        if self.threshold_curve:
            out["threshold_curve"] = self.threshold_curve
        return out


class Adapter:
    """Base class of a kind's adapter. ``predictor`` objects are whatever the kind's ml package loads."""

    kind: str = ""
    # The kind's ml package (``ml.<kind>``): every one keeps the same contract (``ml/__init__.py``), so the
    # training defaults below call it by name; a kind whose recipes need more arguments overrides them.
    ml_package: str = ""

    def _ml(self, module: str) -> Any:
        # Imported on first use: a worker process loads only the kinds it serves.
        return importlib.import_module(f"{self.ml_package}.{module}")

    # ---- inference ----------------------------------------------------------------------------------
    def batch_size(self, device: str) -> int:
        return 32 if device.startswith("cuda") else 8

    def load(self, artifact_dir: Path, device: str) -> Any:
        raise NotImplementedError

    def input_side(self, predictor: Any) -> int | None:
        """The smallest image side the predictor needs: working copies are decoded down to about it (a
        model that resizes its input to 256 px need not get 1600). ``None``: the full working copy."""
        return None

    def predict(self, predictor: Any, items: Sequence[ItemImages], batch_size: int) -> list[Proposal]:
        raise NotImplementedError

    def apply_threshold(self, predictor: Any, value: float | None) -> None:
        """Use an admin's operating threshold (``None``: the checkpoint's own). Kinds without a single
        operating threshold ignore it."""

    def operating_point(self, artifact_dir: Path) -> dict[str, Any] | None:
        """The operating point the checkpoint's own threshold was chosen for (the requirement, and the
        recall and precision measured there on validation data), shown to the admin; None where the kind
        records none."""
        return None

    def rescore(self, predictor: Any, payload: dict[str, Any], scores: dict[str, Any],
                uncertainty: float) -> Proposal | None:
        """The proposal a stored prediction of this predictor becomes under the operating threshold now
        applied to it (``apply_threshold``), computed from the stored payload and scores alone; ``None``
        where they do not hold enough, and the item is predicted again. Default: always predict again."""
        return None

    # ---- training -----------------------------------------------------------------------------------
    def samples(self, items: Iterable[ItemImages]) -> list[Any]:
        """Training / evaluation samples from items with accepted annotations."""
        raise NotImplementedError

    def synthetic_samples(self, n: int, seed: int, scope_key: str, size: str = "cpu") -> list[Any]:
        """``n`` samples from the kind's generator (bootstrap, and replay while real data is scarce)."""
        return self._ml("recipes").generated_samples(n, seed=seed, size=size)

    def bootstrap(self, *, out_dir: Path, scope_key: str, size: str, budget_s: float, callbacks: list,
                  log: Log) -> dict[str, Any]:
        """Train a first model from the generator into ``out_dir`` (a complete checkpoint folder)."""
        return self._ml("recipes").bootstrap(out_dir, size=size, budget_s=budget_s, callbacks=callbacks, log=log)

    def finetune(self, *, base_dir: Path, new: list[Any], replay: list[Any], out_dir: Path, steps: int,
                 callbacks: list, log: Log) -> dict[str, Any]:
        return self._ml("training").finetune(base_dir, new, replay, out_dir, steps=steps, callbacks=callbacks, log=log)

    def evaluate(self, artifact_dir: Path, samples: list[Any], device: str) -> Evaluation:
        raise NotImplementedError


def scale_point(p: Sequence[float], sx: float, sy: float) -> list[float]:
    return [round(float(p[0]) * sx, 2), round(float(p[1]) * sy, 2)]


def scale_box(b: Sequence[float], sx: float, sy: float) -> list[float]:
    return [round(float(b[0]) * sx, 2), round(float(b[1]) * sy, 2), round(float(b[2]) * sx, 2),
            round(float(b[3]) * sy, 2)]


def clamp_box(b: Sequence[float], w: int, h: int) -> list[float] | None:
    """A box clipped to the image; None when nothing is left (validators refuse empty boxes)."""
    x0, y0, x1, y1 = max(0.0, b[0]), max(0.0, b[1]), min(float(w), b[2]), min(float(h), b[3])
    return [x0, y0, x1, y1] if x1 > x0 and y1 > y0 else None


def ratio(a: float, b: float) -> float | None:
    return None if b == 0 else a / b
