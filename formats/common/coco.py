"""COCO (detection and instance segmentation) written as a stream and read back, for every kind.

The writer yields the document in chunks so that an export of many thousands of images never sits in
memory as one string: annotations are streamed as they come, and the image records are spooled to a
temporary file (in memory up to a megabyte) and written at the end. COCO does not care about the order
of the top-level keys.

The reader accepts what other tools write (CVAT, Label Studio, Detectron2, pycocotools results with
``segmentation`` polygons or RLE masks, plain or compressed) and reports every problem with its JSON path.
A mask becomes the outline of its largest piece (``formats.common.rle``), never a box.
"""
from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from formats.common.checker import LIMITS, AnnotationError, Checker, shown
from formats.common.geometry import bounds, box_polygon, polygon_area
from formats.common.rle import MaskError, outline

CHUNK_CHARS = 1 << 16
# Run-length masks are decoded (each to the window its pixels reach) before they are outlined: bound what
# one file may make the server decode, in pixels and in runs read one by one.
MAX_MASK_PIXELS = 1 << 28
MAX_MASK_RUNS = 2_000_000
MAX_MASK_EDGES = 1_000_000


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
    path: str = ""          # where the file has it ($.annotations[i]), for messages


@dataclass
class CocoFileImage:
    """One image record of a COCO file and its shapes; ``width`` and ``height`` as the file gives them
    (None where it gives none), ``path`` where the record is ($.images[i])."""

    record: dict[str, Any]
    shapes: list[CocoShape]
    path: str
    width: int | None
    height: int | None


def read_coco(document: Any) -> dict[str, tuple[dict[str, Any], list[CocoShape]]]:
    """{file_name: (image record, shapes)} of a parsed COCO document; raises ``AnnotationError``."""
    return {name: (image.record, image.shapes) for name, image in read_coco_images(document).items()}


def read_coco_images(document: Any) -> dict[str, CocoFileImage]:
    """{file_name: image} of a parsed COCO document; raises ``AnnotationError`` naming each bad field."""
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
    out: dict[str, CocoFileImage] = {}
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
        size = [None if image.get(k) is None else c.whole(image[k], f"$.images[{i}].{k}", f"the image's {k} in pixels")
                for k in ("width", "height")]
        by_id[image["id"]] = name
        out[name] = CocoFileImage(image, [], f"$.images[{i}]", *size)
    per_image: dict[str, int] = {}
    budget = [MAX_MASK_PIXELS, MAX_MASK_RUNS, MAX_MASK_EDGES]
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
            if any(n is None for n in nums):
                continue   # named above; "needs a bbox" would only repeat it
            x, y, w, h = nums
            box = [x, y, x + w, y + h]
        elif raw is not None:
            c.fail(f"{path}.bbox", "must be [x, y, width, height]")
            continue
        seg = ann.get("segmentation")
        if isinstance(seg, dict):
            polygon = _mask_polygon(c, seg, f"{path}.segmentation", out[name], budget)
        elif isinstance(seg, list) or seg is None:
            polygon = _polygon(c, seg, f"{path}.segmentation") if seg else None
        else:
            c.fail(f"{path}.segmentation", f"must be polygons [[x1, y1, x2, y2, ...]] or a run-length mask "
                                           f"(got {shown(seg)})")
            continue
        if polygon is False:
            continue   # named above
        if box is None and polygon:
            box = list(bounds(polygon))
        if box is None:
            c.fail(path, "needs a bbox or a segmentation")
            continue
        score = ann.get("score")
        attributes = ann.get("attributes") if isinstance(ann.get("attributes"), dict) else {}
        out[name].shapes.append(CocoShape(category, box, polygon, attributes,
                                          float(score) if isinstance(score, (int, float)) and math.isfinite(score)
                                          else None, path))
    if c.errors:
        raise AnnotationError(c.errors)
    return out


def _polygon(c: Checker, seg: list, path: str) -> list[list[float]] | Literal[False]:
    """The largest part of a polygon segmentation; False when a part is bad (named in ``c``)."""
    parts = []
    for k, part in enumerate(seg):
        if (not isinstance(part, list) or len(part) < 6 or len(part) % 2
                or len(part) > 2 * LIMITS["points_per_polygon"]):
            c.fail(f"{path}[{k}]", "a polygon is [x1, y1, x2, y2, ...] with at least 3 points")
            return False
        nums = [c.number(v, f"{path}[{k}][{j}]") for j, v in enumerate(part)]
        if any(n is None for n in nums):
            return False
        parts.append([[nums[j], nums[j + 1]] for j in range(0, len(nums), 2)])
    return max(parts, key=polygon_area)


def _mask_polygon(c: Checker, seg: dict, path: str, image: CocoFileImage,
                  budget: list[int]) -> list[list[float]] | Literal[False]:
    """The outline of a run-length mask (``{"size": [h, w], "counts": [...] | "..."}``); False when the
    mask is bad (named in ``c``). ``budget``: the pixels, runs and edges the file's masks may still cost."""
    size, counts = seg.get("size"), seg.get("counts")
    if (not isinstance(size, list) or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
        c.fail(f"{path}.size", f"a mask's size is [height, width] in pixels (got {shown(size)})")
        return False
    height, width = size
    if image.width and image.height and (width, height) != (image.width, image.height):
        c.fail(f"{path}.size", f"the mask is {width}×{height}; its image is {image.width}×{image.height}")
        return False
    if not (image.width and image.height):   # the mask's size is then the image's, checked like a record's
        image.width, image.height, image.path = width, height, f"{path}.size"
    if not (isinstance(counts, str) or (isinstance(counts, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in counts))):
        c.fail(f"{path}.counts", "a mask's counts are a list of whole numbers or a compressed string")
        return False
    if min(budget) <= 0:
        c.fail(path, f"the file's masks together span more than {MAX_MASK_PIXELS:,} pixels, {MAX_MASK_RUNS:,} "
                     f"runs or {MAX_MASK_EDGES:,} outline edges; send polygons")
        return False
    try:
        mask = outline(counts, height, width, max_pixels=budget[0], max_runs=budget[1], max_edges=budget[2])
    except MaskError as exc:
        c.fail(path, f"{exc}")
        return False
    budget[0] -= mask.pixels
    budget[1] -= mask.runs
    budget[2] -= mask.edges
    if len(mask.polygon) > LIMITS["points_per_polygon"]:
        c.fail(path, f"the mask's outline has {len(mask.polygon)} corners; at most {LIMITS['points_per_polygon']} "
                     "are allowed")
        return False
    return mask.polygon
