"""Article polygons as COCO instance segmentation: one image per page, one annotation per article
(category ``article``), the article id and reading-order position in ``attributes``.

Image ids are stable: the id of the item's image link where the caller gives one, else the item id.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from formats.common.checker import AnnotationError
from formats.common.coco import CocoImage, CocoShape, read_coco, shape_annotation, write_coco
from formats.common.geometry import bounds
from formats.common.items import ExportedItem

CATEGORIES = [{"id": 1, "name": "article", "supercategory": "page"}]


def coco_images(items: Iterable[ExportedItem]) -> Iterator[CocoImage]:
    for item in items:
        asset = item.assets[0]
        anns = []
        for order, art in enumerate(item.annotation.get("articles", [])):
            extra: dict[str, Any] = {"attributes": {"article_id": art["id"], "order": order}}
            if art.get("score") is not None:
                extra["score"] = art["score"]
            anns.append(shape_annotation(1, list(bounds(art["polygon"])), art["polygon"], **extra))
        yield CocoImage(id=int(asset["id"]) if asset.get("id") is not None else item.item_id,
                        file_name=asset["name"], width=asset["width"], height=asset["height"],
                        extra={"loupe_item": item.item_id, "external_id": item.external_id,
                               "page_type": item.annotation.get("page_type", "article"),
                               "sha256": asset.get("sha256", "")},
                        annotations=anns)


def to_coco(items: Iterable[ExportedItem]) -> Iterator[str]:
    return write_coco(coco_images(items), CATEGORIES, {"description": "Loupe newspaper articles"})


def in_reading_order(shapes: list[CocoShape]) -> list[CocoShape]:
    """The shapes in the reading order their ``attributes.order`` gives (the file's order otherwise)."""
    return [s for _, s in _ranked(shapes)]


def _ranked(shapes: list[CocoShape]) -> list[tuple[int, CocoShape]]:
    """(position in the file, shape) in reading order."""
    order = [(s.attributes.get("order") if isinstance(s.attributes.get("order"), int) else k, k)
             for k, s in enumerate(shapes)]
    return [(k, shapes[k]) for _, k in sorted(order)]


def articles_from_shapes(shapes: list[CocoShape], where: str) -> list[dict[str, Any]]:
    """Articles (in reading order where the file gives one) from one page's COCO shapes."""
    errors, out = [], []
    for k, s in enumerate(shapes):
        if s.polygon is None:
            errors.append({"path": f"{s.path}.segmentation" if s.path else f"{where} annotation {k + 1}",
                           "message": "an article needs a polygon segmentation"})
    if errors:
        raise AnnotationError(errors)
    for k, s in _ranked(shapes):
        art: dict[str, Any] = {"id": str(s.attributes.get("article_id") or f"a{k + 1}"), "polygon": s.polygon}
        if s.score is not None:
            art["score"] = s.score
        out.append(art)
    return out


def page_annotation(image: dict[str, Any], shapes: list[CocoShape], name: str) -> dict[str, Any]:
    """A page's annotation from its COCO image record and shapes (page type from the record, else
    ``article``)."""
    page_type = image.get("page_type") if isinstance(image.get("page_type"), str) else "article"
    return {"page_type": page_type, "cuts": [], "articles": articles_from_shapes(shapes, f"image {name!r}")}


def from_coco(document: Any) -> dict[str, dict[str, Any]]:
    """{file name: annotation} of a COCO document."""
    return {name: page_annotation(image, shapes, name) for name, (image, shapes) in read_coco(document).items()}
