"""Existing article annotations brought in with the page images: PAGE XML (one file per page, from
Transkribus, Aletheia, OCR-D or an earlier export; article regions and reading order) and COCO files
(article polygons)."""
from __future__ import annotations

from typing import Any

from formats.articles.coco import from_coco
from formats.articles.pagexml import read_page
from formats.common.checker import AnnotationError, AssetDims
from formats.common.imports import load_json


def read_page_file(content: bytes) -> dict[str, tuple[dict[str, Any], int, int]]:
    """{image file name: (annotation, width, height)} of one PAGE XML file."""
    annotation, width, height, name = read_page(content)
    if not name:
        raise ValueError("the Page element names no imageFilename")
    return {name: (annotation, width, height)}


def read_coco_file(content: bytes) -> dict[str, tuple[dict[str, Any], int | None, int | None]]:
    return {name: (ann, None, None) for name, ann in from_coco(load_json(content)).items()}


READERS = {".xml": read_page_file, ".json": read_coco_file}


def assemble(parts: list[tuple[dict[str, Any], int | None, int | None] | None], assets: list[AssetDims]) -> dict:
    """The page's annotation; a PAGE file made for an image of another size is refused (its coordinates
    would land in the wrong place)."""
    annotation, width, height = parts[0]
    page = assets[0]
    if width and height and (width, height) != (page.width, page.height):
        raise AnnotationError([{"path": "$", "message": f"the file describes a {width}×{height} image; this image "
                                                         f"is {page.width}×{page.height}"}])
    return dict(annotation)
