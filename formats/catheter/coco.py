"""Catheter defects as COCO: one image per shot, one annotation per defect, categories fixed to the
taxonomy (ids 1.. in ``DEFECT_TYPES`` order, whatever the export contains).

Image ids are stable: the id of the item's image link where the caller gives one, else
``item * 1000 + shot``; exporting more accepted items later does not renumber the earlier ones.
A defect's polyline or point, and its id, travel in ``attributes`` (CVAT's convention), so the reader
gives back exactly what was exported.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from formats.catheter.annotation import DEFECT_TYPES, SHAPES
from formats.common.checker import AnnotationError
from formats.common.coco import CocoImage, CocoShape, read_coco, shape_annotation, write_coco
from formats.common.items import ExportedItem

CATEGORIES = [{"id": i + 1, "name": t, "supercategory": "defect"} for i, t in enumerate(DEFECT_TYPES)]
CATEGORY_ID = {c["name"]: c["id"] for c in CATEGORIES}


def image_id(item: ExportedItem, shot: int) -> int:
    asset = item.assets[shot]
    return int(asset["id"]) if asset.get("id") is not None else item.item_id * 1000 + shot


def defect_annotation(d: dict[str, Any]) -> dict[str, Any]:
    shape = next((s for s in SHAPES if d.get(s) is not None), "box")
    attributes: dict[str, Any] = {"shape": shape}   # "box": the segmentation is only the box's outline
    if shape in ("polyline", "point"):
        attributes[shape] = d[shape]
    if d.get("id") is not None:
        attributes["defect_id"] = d["id"]
    extra: dict[str, Any] = {"attributes": attributes}
    if d.get("score") is not None:
        extra["score"] = d["score"]
    return shape_annotation(CATEGORY_ID[d["type"]], d["box"], d.get("polygon"), **extra)


def coco_images(items: Iterable[ExportedItem]) -> Iterator[CocoImage]:
    for item in items:
        for shot, (asset, entry) in enumerate(zip(item.assets, item.annotation["shots"])):
            yield CocoImage(id=image_id(item, shot), file_name=asset["name"], width=asset["width"],
                            height=asset["height"],
                            extra={"loupe_item": item.item_id, "external_id": item.external_id, "shot": shot,
                                   "sha256": asset.get("sha256", ""), "verdict": item.annotation["verdict"]},
                            annotations=[defect_annotation(d) for d in entry["defects"]])


def to_coco(items: Iterable[ExportedItem]) -> Iterator[str]:
    return write_coco(coco_images(items), CATEGORIES, {"description": "Loupe catheter defects"})


def defects_from_shapes(shapes: list[CocoShape], where: str) -> list[dict[str, Any]]:
    """Defects in the annotation format from one image's COCO shapes; categories must be defect types."""
    errors, out = [], []
    for k, s in enumerate(shapes):
        if s.category not in DEFECT_TYPES:
            errors.append({"path": f"{s.path}.category_id" if s.path else f"{where} annotation {k + 1}",
                           "message": f"category {s.category!r} is not a defect type ({', '.join(DEFECT_TYPES)})"})
            continue
        d: dict[str, Any] = {"type": s.category, "box": s.box}
        shape = s.attributes.get("shape", "polygon" if s.polygon else None)
        if shape == "polygon" and s.polygon:
            d["polygon"] = s.polygon
        elif shape in ("polyline", "point") and s.attributes.get(shape) is not None:
            d[shape] = s.attributes[shape]
        if isinstance(s.attributes.get("defect_id"), str):
            d["id"] = s.attributes["defect_id"]
        out.append(d)
    if errors:
        raise AnnotationError(errors)
    return out


def from_coco(document: Any) -> dict[int, dict[str, Any]]:
    """{item id: annotation} of a COCO document this module wrote (images carry loupe_item and shot)."""
    shots: dict[int, dict[int, list]] = {}
    for name, (image, shapes) in read_coco(document).items():
        item, shot = image.get("loupe_item"), image.get("shot")
        if not isinstance(item, int) or not isinstance(shot, int):
            raise AnnotationError([{"path": f"image {name!r}", "message": "has no loupe_item and shot"}])
        shots.setdefault(item, {})[shot] = defects_from_shapes(shapes, f"image {name!r}")
    out = {}
    for item, by_shot in shots.items():
        series = [{"defects": by_shot.get(k, [])} for k in range(max(by_shot) + 1)]
        out[item] = {"verdict": "defect" if any(s["defects"] for s in series) else "ok", "shots": series}
    return out
