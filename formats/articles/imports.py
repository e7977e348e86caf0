"""Existing article annotations brought in with the page images: PAGE XML (one file per page, from
Transkribus, Aletheia, OCR-D or an earlier export; article regions and reading order) and COCO files
(article polygons, RLE masks)."""
from __future__ import annotations

from typing import Any

from formats.articles.annotation import validate
from formats.articles.coco import in_reading_order, page_annotation
from formats.articles.pagexml import read_page_with_sources
from formats.articles.pageschema import check_page
from formats.common.checker import AssetDims
from formats.common.coco import read_coco_images
from formats.common.imports import ImagePart, check_sizes, load_json, validated


def read_page_file(content: bytes) -> dict[str, ImagePart]:
    """{image file name: the page} of one PAGE XML file, refused where the PAGE 2019 schema refuses it."""
    check_page(content)
    annotation, width, height, name, sources = read_page_with_sources(content)
    if not name:
        raise ValueError("the Page element names no imageFilename")
    return {name: ImagePart(annotation, name, width or None, height or None, "/PcGts/Page", sources)}


def read_coco_file(content: bytes) -> dict[str, ImagePart]:
    return {name: ImagePart(page_annotation(image.record, image.shapes, name), name, image.width, image.height,
                            image.path, {"articles": [s.path for s in in_reading_order(image.shapes)]})
            for name, image in read_coco_images(load_json(content)).items()}


READERS = {".xml": read_page_file, ".json": read_coco_file}


def assemble(parts: list[ImagePart | None], assets: list[AssetDims]) -> dict[str, Any]:
    """The page's annotation; a file made for an image of another size is refused."""
    check_sizes(parts, assets)
    return validated(validate, dict(parts[0].content), assets, parts)
