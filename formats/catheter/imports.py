"""Existing catheter annotations brought in with the images: COCO files (boxes, polygons, RLE masks) from
CVAT, Label Studio, Detectron2 or an earlier export. Each image's defects become one shot of its item."""
from __future__ import annotations

from typing import Any

from formats.catheter.annotation import validate
from formats.catheter.coco import defects_from_shapes
from formats.common.checker import AssetDims
from formats.common.coco import read_coco_images
from formats.common.imports import ImagePart, check_sizes, load_json, validated


def read_coco_file(content: bytes) -> dict[str, ImagePart]:
    """{image file name: its defects}; raises ValueError / AnnotationError naming what is wrong."""
    return {name: ImagePart(defects_from_shapes(image.shapes, f"image {name!r}"), name, image.width, image.height,
                            image.path, {"defects": [s.path for s in image.shapes]})
            for name, image in read_coco_images(load_json(content)).items()}


READERS = {".json": read_coco_file}


def assemble(parts: list[ImagePart | None], assets: list[AssetDims]) -> dict[str, Any]:
    """The item's annotation from the imported defects of its shots (a shot the file does not name has
    none); a shot the file gives another size is refused. The kind's validator checks the rest."""
    check_sizes(parts, assets)
    shots = [{"defects": list(p.content) if p else []} for p in parts]
    return validated(validate, {"verdict": "defect" if any(s["defects"] for s in shots) else "ok", "shots": shots},
                     assets, parts)
