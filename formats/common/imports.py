"""What the kinds' importers share: reading an uploaded annotation file safely, and refusing a file made
for an image of another size (its coordinates would land in the wrong place)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from formats.common.checker import AnnotationError, AssetDims


def load_json(content: bytes) -> Any:
    """The parsed JSON of an uploaded file; ValueError with the reason when it is not JSON."""
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None


@dataclass(frozen=True)
class ImagePart:
    """What an annotation file says about one image: the kind's part of the annotation, and the image's
    size as the file gives it (None where the file gives none) with where in the file it says so."""

    content: Any
    name: str
    width: int | None = None
    height: int | None = None
    path: str = "$"
    # where each shape of ``content`` is in the file, per list of the annotation ({"defects": [path, ...]}),
    # so that the kind's validator's complaints can name the file's element
    sources: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Imported:
    """What a file brings to an item when it is more than a proposal: the proposal (None: the file
    proposes no answer) and facts about the item to keep in its meta (an omr original's symbols)."""

    annotation: dict[str, Any] | None
    meta: dict[str, Any] = field(default_factory=dict)


_SHAPE_PATH = re.compile(r"^\$\.(?:shots\[(\d+)\]\.)?(\w+)\[(\d+)\]")


def validated(validate: Callable[..., dict], annotation: dict, assets: list[AssetDims],
              parts: list[ImagePart | None]) -> dict:
    """``validate(annotation, assets)``; its complaints about a shape also name the file's element the shape
    came from (``$.annotations[4], as $.shots[1].defects[0].box: ...``). A shape of shot k is the parts[k]'s
    (an annotation without shots is the first part's)."""
    try:
        return validate(annotation, assets)
    except AnnotationError as exc:
        raise AnnotationError([{**e, "path": _file_path(e["path"], parts)} for e in exc.errors]) from None


def _file_path(path: str, parts: list[ImagePart | None]) -> str:
    match = _SHAPE_PATH.match(path)
    if not match:
        return path
    shot, collection, index = int(match[1] or 0), match[2], int(match[3])
    part = parts[shot] if shot < len(parts) else None
    sources = part.sources.get(collection, []) if part is not None else []
    return f"{sources[index]}, as {path}" if index < len(sources) else path


def check_sizes(parts: list[ImagePart | None], assets: list[AssetDims]) -> None:
    """``AnnotationError`` naming each image whose size in the file is not the real image's."""
    errors = []
    for part, dims in zip(parts, assets):
        if part is None or not part.width or not part.height:
            continue
        if (part.width, part.height) != (dims.width, dims.height):
            errors.append({"path": part.path, "message": f"the file describes {part.name!r} as a "
                                                         f"{part.width}×{part.height} image; that image is "
                                                         f"{dims.width}×{dims.height}"})
    if errors:
        raise AnnotationError(errors)
