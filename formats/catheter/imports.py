"""Existing catheter annotations brought in with the images: COCO files (boxes, polygons) from CVAT,
Label Studio, Detectron2 or an earlier export. Each image's defects become one shot of its item."""
from __future__ import annotations

from typing import Any

from formats.catheter.coco import defects_from_shapes
from formats.common.checker import AssetDims
from formats.common.coco import read_coco
from formats.common.imports import load_json


def read_coco_file(content: bytes) -> dict[str, list[dict[str, Any]]]:
    """{image file name: defects}; raises ValueError / AnnotationError naming what is wrong."""
    return {name: defects_from_shapes(shapes, f"image {name!r}")
            for name, (_, shapes) in read_coco(load_json(content)).items()}


READERS = {".json": read_coco_file}


def assemble(parts: list[list[dict[str, Any]] | None], assets: list[AssetDims]) -> dict[str, Any]:
    """The item's annotation from the imported defects of its shots (a shot the file does not name has
    none); the kind's validator checks it next."""
    shots = [{"defects": list(p or [])} for p in parts]
    return {"verdict": "defect" if any(s["defects"] for s in shots) else "ok", "shots": shots}
