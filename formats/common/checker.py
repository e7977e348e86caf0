"""Validation that collects every problem of an annotation, each with the JSON path it concerns.

The per-kind validators build on ``Checker``; they return a clean copy of the annotation (numbers as
floats, unknown keys dropped) or raise ``AnnotationError`` listing every problem. Bounds (``LIMITS``)
keep one annotation from costing the server unbounded time or memory.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from formats.common.geometry import polygon_area

LIMITS = {
    "shapes_per_image": 2000,      # defects on a shot, articles or cuts on a page, point pairs
    "points_per_polygon": 10000,
    "id_length": 64,
}

# XML Schema's NCName (the lexical space of xs:ID), restricted to the ASCII-and-Latin range people type.
NCNAME_PATTERN = (r"^[A-Za-z_\u00C0-\u02FF\u0370-\u1FFF]"
                  r"[A-Za-z0-9_.\-\u00B7\u00C0-\u02FF\u0300-\u036F\u0370-\u1FFF]*$")
_NCNAME = re.compile(NCNAME_PATTERN)


def is_ncname(value: str) -> bool:
    """True when ``value`` can be an XML id (xs:ID): a letter or _ first, then letters, digits, . - _."""
    return "\n" not in value and bool(_NCNAME.match(value))


def shown(value: Any) -> str:
    """A value as a message quotes it: scalars as Python writes them (80 characters at most), anything
    else by its type."""
    text = repr(value) if isinstance(value, (str, int, float, type(None))) else type(value).__name__
    return text[:80]


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


class Checker:
    """Collects every problem of an annotation (not just the first), each with a JSON path."""

    max_errors = 100  # a broken file of 10^5 shapes should not answer with 10^5 messages

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        if len(self.errors) < self.max_errors:
            self.errors.append({"path": path, "message": message})

    def raise_if_any(self) -> None:
        if self.errors:
            raise AnnotationError(self.errors)

    def root(self, annotation: Any, assets: list[AssetDims], images: int | None = None, what: str = "") -> dict:
        """The annotation's top-level object; raises at once when it is none, or when the item does not
        have the ``images`` count its kind needs (``what`` says what an item of the kind is)."""
        root = self.obj(annotation, "$")
        if root is None:
            self.raise_if_any()
        if images is not None and len(assets) != images:
            self.fail("$", f"{what}; this item has {len(assets)} images")
            self.raise_if_any()
        return root

    def obj(self, value: Any, path: str) -> dict | None:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return None
        return value

    def lst(self, value: Any, path: str, max_len: int | None = None) -> list | None:
        if not isinstance(value, list):
            self.fail(path, "must be a list")
            return None
        if max_len is not None and len(value) > max_len:
            self.fail(path, f"has {len(value)} entries; at most {max_len} are allowed")
            return None
        return value

    def number(self, value: Any, path: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail(path, f"must be a finite number (got {shown(value)})")
            return None
        return float(value)

    def whole(self, value: Any, path: str, what: str) -> int | None:
        """A positive whole number (a size in pixels)."""
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.fail(path, f"must be {what}, a positive whole number (got {shown(value)})")
            return None
        return value

    def choice(self, value: Any, allowed: Iterable[str], path: str) -> str | None:
        allowed = tuple(allowed)
        if not isinstance(value, str) or value not in allowed:
            self.fail(path, f"must be one of {', '.join(allowed)} (got {shown(value)})")
            return None
        return value

    def identifier(self, value: Any, path: str) -> str | None:
        """An id that is also valid as an XML id (it becomes one in PAGE XML)."""
        if not isinstance(value, str) or not value:
            self.fail(path, "must be a non-empty string")
            return None
        if len(value) > LIMITS["id_length"]:
            self.fail(path, f"is {len(value)} characters long; at most {LIMITS['id_length']} are allowed")
            return None
        if not is_ncname(value):
            self.fail(path, f"{value!r} is not a valid id: start with a letter or _, then letters, digits, "
                            "'.', '-' or '_' (no spaces or colons)")
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

    def points(self, value: Any, dims: AssetDims, path: str, minimum: int, what: str) -> list[list[float]] | None:
        points = self.lst(value, path)
        if points is None:
            return None
        if len(points) < minimum:
            self.fail(path, f"a {what} needs at least {minimum} points ({len(points)} given)")
            return None
        if len(points) > LIMITS["points_per_polygon"]:
            self.fail(path, f"has {len(points)} points; at most {LIMITS['points_per_polygon']} are allowed")
            return None
        out = [self.point(p, dims, f"{path}[{i}]") for i, p in enumerate(points)]
        if any(p is None for p in out):
            return None
        return [list(p) for p in out]

    def polygon(self, value: Any, dims: AssetDims, path: str) -> list[list[float]] | None:
        out = self.points(value, dims, path, 3, "polygon")
        if out is None:
            return None
        if polygon_area(out) <= 0:
            self.fail(path, "the polygon has no area")
            return None
        return out

    def polyline(self, value: Any, dims: AssetDims, path: str) -> list[list[float]] | None:
        return self.points(value, dims, path, 2, "polyline")
