"""The kind registry: the one place where task kinds plug into the labeling core.

A kind app (catheter, articles, omr, ...) registers a ``KindSpec`` in its ``AppConfig.ready()``: its
annotation validator (geometry against the image bounds, class names from its taxonomy), an empty
annotation, its item page template and its export formats. The core never names a kind; adding a
fourth kind is a new app listed in INSTALLED_APPS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable


@dataclass(frozen=True)
class AssetDims:
    """What a validator needs to know of an item's image: its size in original pixels and its role."""

    width: int
    height: int
    role: str = ""


class AnnotationError(ValueError):
    """An annotation that does not fit the kind's schema; ``errors`` lists each problem with its path."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors))


@dataclass(frozen=True)
class ExportedItem:
    """One accepted item as an export function sees it."""

    item_id: int
    external_id: str
    assets: list[dict[str, Any]]  # {"name", "width", "height", "sha256", "role"}
    annotation: dict[str, Any]
    meta: dict[str, Any]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    label: str
    content_type: str
    extension: str
    render: Callable[[list[ExportedItem]], str | bytes]


@dataclass(frozen=True)
class KindSpec:
    name: str
    label: str
    description: str
    taxonomy: tuple[str, ...]
    validate: Callable[[Any, list[AssetDims]], dict]
    empty_annotation: Callable[[list[AssetDims]], dict]
    template: str
    asset_roles: tuple[str, ...] = ()  # exact roles in order (e.g. original, photo); empty = 1..n shots
    exports: dict[str, ExportFormat] = field(default_factory=dict)
    slices: Callable[[dict, dict], list[str]] = lambda annotation, meta: []
    count_edits: Callable[[dict | None, dict], int] | None = None
    # The reviewer's view of an answer against what it started from (None: nothing yet; the empty
    # annotation stands for "nothing"): {"added": [shape], "removed": [shape], "changed": [{"before",
    # "after"}]}, each shape as the kind draws it (e.g. {"shot": i, ...defect}), plus anything else it can say.
    review_diff: Callable[[dict | None, dict], dict] | None = None


_REGISTRY: dict[str, KindSpec] = {}


def register_kind(spec: KindSpec) -> None:
    _REGISTRY[spec.name] = spec


def get_kind(name: str) -> KindSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"unknown task kind {name!r}; registered: {', '.join(sorted(_REGISTRY)) or 'none'}") from None


def kind_names() -> list[str]:
    return sorted(_REGISTRY)


def all_kinds() -> list[KindSpec]:
    return [_REGISTRY[n] for n in kind_names()]


# ----- validation helpers shared by the kinds -----------------------------------------------------------

class Checker:
    """Collects every problem of an annotation (not just the first), each with a JSON path."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

    def raise_if_any(self) -> None:
        if self.errors:
            raise AnnotationError(self.errors)

    def obj(self, value: Any, path: str) -> dict | None:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return None
        return value

    def lst(self, value: Any, path: str) -> list | None:
        if not isinstance(value, list):
            self.fail(path, "must be a list")
            return None
        return value

    def number(self, value: Any, path: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail(path, "must be a finite number")
            return None
        return float(value)

    def choice(self, value: Any, allowed: Iterable[str], path: str) -> str | None:
        allowed = tuple(allowed)
        if value not in allowed:
            self.fail(path, f"must be one of {', '.join(allowed)} (got {value!r})")
            return None
        return value

    def point(self, value: Any, dims: AssetDims, path: str) -> tuple[float, float] | None:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            self.fail(path, "must be a point [x, y]")
            return None
        x, y = self.number(value[0], f"{path}[0]"), self.number(value[1], f"{path}[1]")
        if x is None or y is None:
            return None
        if not (0 <= x <= dims.width and 0 <= y <= dims.height):
            self.fail(path, f"point ({x:g}, {y:g}) lies outside the image (0..{dims.width}, 0..{dims.height})")
            return None
        return x, y

    def box(self, value: Any, dims: AssetDims, path: str) -> list[float] | None:
        if not isinstance(value, (list, tuple)) or len(value) != 4:
            self.fail(path, "must be a box [x0, y0, x1, y1]")
            return None
        nums = [self.number(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if any(n is None for n in nums):
            return None
        x0, y0, x1, y1 = nums
        if not (x0 < x1 and y0 < y1):
            self.fail(path, "needs x0 < x1 and y0 < y1")
            return None
        if x0 < 0 or y0 < 0 or x1 > dims.width or y1 > dims.height:
            self.fail(path, f"box lies outside the image (0..{dims.width}, 0..{dims.height})")
            return None
        return [x0, y0, x1, y1]

    def polygon(self, value: Any, dims: AssetDims, path: str) -> list[list[float]] | None:
        points = self.lst(value, path)
        if points is None:
            return None
        if len(points) < 3:
            self.fail(path, "a polygon needs at least 3 points")
            return None
        out = [self.point(p, dims, f"{path}[{i}]") for i, p in enumerate(points)]
        if any(p is None for p in out):
            return None
        area = 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(out, out[1:] + out[:1])))
        if area <= 0:
            self.fail(path, "the polygon has no area")
            return None
        return [list(p) for p in out]
