"""COCO (detection and instance segmentation) written as a stream and read back, for every kind.

The writer yields the document in chunks so that an export of many thousands of images never sits in
memory as one string: annotations are streamed as they come, and the image records are spooled to a
temporary file (in memory up to a megabyte) and written at the end. COCO does not care about the order
of the top-level keys.

The reader accepts what other tools write (CVAT, Label Studio, Detectron2, pycocotools results with
``segmentation`` polygons or RLE) and reports every problem with its JSON path.
"""
from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from formats.common.checker import LIMITS, AnnotationError, Checker
from formats.common.geometry import bounds, box_polygon, polygon_area

CHUNK_CHARS = 1 << 16


@dataclass
class CocoImage:
    """One image with its annotations, before ids are given."""

    id: int
    file_name: str
    width: int
    height: int
    extra: dict[str, Any] = field(default_factory=dict)
    annotations: list[dict[str, Any]] = field(default_factory=list)  # category_id, bbox, segmentation, area ...


def shape_annotation(category_id: int, box: list[float], polygon: list[list[float]] | None = None,
                     **extra: Any) -> dict[str, Any]:
    """A COCO annotation for a box and, where there is one, its polygon: ``segmentation`` always (the
    polygon, else the box's outline: pycocotools' segm evaluation needs it), ``area`` from the polygon
    where there is one (COCO's small/medium/large buckets are areas of the mask, not of the box)."""
    x0, y0, x1, y1 = box
    outline = polygon if polygon else box_polygon(box)
    return {"category_id": category_id, "bbox": [x0, y0, x1 - x0, y1 - y0],
            "segmentation": [[float(v) for p in outline for v in p]],
            "area": float(polygon_area(outline)), "iscrowd": 0, **extra}


def write_coco(images: Iterable[CocoImage], categories: list[dict[str, Any]],
               info: dict[str, Any] | None = None) -> Iterator[str]:
    """The COCO document as chunks of text; annotation ids run 1.. in the order given."""
    head = {"info": info or {}, "licenses": [], "categories": categories}
    yield json.dumps(head)[:-1] + ', "annotations": ['
    with tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8") as records:
        buffer, size, next_id = [], 0, 1
        for n, image in enumerate(images):
            record = json.dumps({"id": image.id, "file_name": image.file_name, "width": image.width,
                                 "height": image.height, **image.extra})
            records.write(record if n == 0 else "," + record)
            for ann in image.annotations:
                text = json.dumps({"id": next_id, "image_id": image.id, **ann})
                buffer.append(text if next_id == 1 else "," + text)
                size += len(text)
                next_id += 1
            if size >= CHUNK_CHARS:
                yield "".join(buffer)
                buffer, size = [], 0
        yield "".join(buffer) + '], "images": ['
        records.seek(0)
        while part := records.read(CHUNK_CHARS):
            yield part
    yield "]}\n"


# ----------------------------------------------------------------------------------------------- reading

@dataclass
class CocoShape:
    """One annotation of a COCO file as the kinds import it: a category name, a box [x0, y0, x1, y1] and,
    where the file has one, a polygon (the largest part of a multi-part segmentation)."""

    category: str
    box: list[float]
    polygon: list[list[float]] | None
    attributes: dict[str, Any]
    score: float | None = None


def read_coco(document: Any) -> dict[str, tuple[dict[str, Any], list[CocoShape]]]:
    """{file_name: (image record, shapes)} of a parsed COCO document; raises ``AnnotationError``."""
    c = Checker()
    root = c.obj(document, "$")
    if root is None:
        c.raise_if_any()
    images = c.lst(root.get("images"), "$.images") or []
    anns = c.lst(root.get("annotations", []), "$.annotations") or []
    cats = c.lst(root.get("categories"), "$.categories") or []
    c.raise_if_any()
    cat_name: dict[Any, str] = {}
    for i, cat in enumerate(cats):
        cat = c.obj(cat, f"$.categories[{i}]")
        if cat is None:
            continue
        if not isinstance(cat.get("name"), str) or cat.get("id") is None:
            c.fail(f"$.categories[{i}]", "needs an id and a name")
            continue
        cat_name[cat["id"]] = cat["name"]
    by_id: dict[Any, str] = {}
    out: dict[str, tuple[dict[str, Any], list[CocoShape]]] = {}
    for i, image in enumerate(images):
        image = c.obj(image, f"$.images[{i}]")
        if image is None:
            continue
        name = image.get("file_name")
        if not isinstance(name, str) or not name:
            c.fail(f"$.images[{i}].file_name", "must name the image file")
            continue
        if image.get("id") is None or image["id"] in by_id:
            c.fail(f"$.images[{i}].id", "needs an id of its own")
            continue
        if name in out:
            c.fail(f"$.images[{i}].file_name", f"{name!r} is listed twice")
            continue
        by_id[image["id"]] = name
        out[name] = (image, [])
    per_image: dict[str, int] = {}
    for i, ann in enumerate(anns):
        path = f"$.annotations[{i}]"
        ann = c.obj(ann, path)
        if ann is None:
            continue
        name = by_id.get(ann.get("image_id"))
        if name is None:
            c.fail(f"{path}.image_id", f"names no image of the file ({ann.get('image_id')!r})")
            continue
        category = cat_name.get(ann.get("category_id"))
        if category is None:
            c.fail(f"{path}.category_id", f"names no category of the file ({ann.get('category_id')!r})")
            continue
        per_image[name] = per_image.get(name, 0) + 1
        if per_image[name] > LIMITS["shapes_per_image"]:
            c.fail(path, f"image {name!r} has more than {LIMITS['shapes_per_image']} annotations")
            continue
        box = None
        raw = ann.get("bbox")
        if isinstance(raw, list) and len(raw) == 4:
            nums = [c.number(v, f"{path}.bbox[{k}]") for k, v in enumerate(raw)]
            if all(n is not None for n in nums):
                x, y, w, h = nums
                box = [x, y, x + w, y + h]
        elif raw is not None:
            c.fail(f"{path}.bbox", "must be [x, y, width, height]")
            continue
        polygon = None
        seg = ann.get("segmentation")
        if isinstance(seg, list) and seg:
            parts = []
            for k, part in enumerate(seg):
                if (not isinstance(part, list) or len(part) < 6 or len(part) % 2
                        or len(part) > 2 * LIMITS["points_per_polygon"]):
                    c.fail(f"{path}.segmentation[{k}]", "a polygon is [x1, y1, x2, y2, ...] with at least 3 points")
                    break
                nums = [c.number(v, f"{path}.segmentation[{k}][{j}]") for j, v in enumerate(part)]
                if any(n is None for n in nums):
                    break
                parts.append([[nums[j], nums[j + 1]] for j in range(0, len(nums), 2)])
            else:
                polygon = max(parts, key=polygon_area)
                if box is None:
                    box = list(bounds(polygon))
        if box is None:
            c.fail(path, "needs a bbox or a polygon segmentation")
            continue
        score = ann.get("score")
        attributes = ann.get("attributes") if isinstance(ann.get("attributes"), dict) else {}
        out[name][1].append(CocoShape(category, box, polygon, attributes,
                                      float(score) if isinstance(score, (int, float)) and math.isfinite(score) else None))
    if c.errors:
        raise AnnotationError(c.errors)
    return out
