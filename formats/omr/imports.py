"""Existing OMR work brought in with the image pairs, from a ``.json`` file of either kind:

- alignments JSON as the ``alignments`` export writes it (``{"alignments": [{"original", "photo",
  "status", "homography", "point_pairs", "reasons", ...}]}``): each row is a pair's answer and becomes
  its proposal. A row must name both images of one uploaded pair.
- DeepScoresV2 JSON (``info``, ``annotation_sets``, ``categories``, ``images``, ``annotations``): the
  symbol boxes of an original rendering, with DS2's class names. An alignment annotation holds no
  symbols; the original's symbols are an item fact (meta ``symbols``, ``staff_lines``, ``staves``) that
  the workspace draws onto the photo and the symbol exports and training move through the accepted
  homography. So a DS2 file fills the pair's meta and proposes no answer. It must name the pair's
  original (the photo's symbols are what the alignment makes of the original's).

Each file is refused whole, with the JSON path of what is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from formats.common.checker import AnnotationError, AssetDims, Checker, shown
from formats.common.imports import ImagePart, Imported, check_sizes, load_json
from formats.omr.annotation import validate
from formats.omr.deepscores import DS2_ID, staves_lines

MAX_SYMBOLS = 20_000   # a dense DS2 page has a few thousand
ANSWER_KEYS = ("status", "homography", "point_pairs", "reasons")


@dataclass(frozen=True)
class AlignmentRow:
    """One row of an alignments file, seen from one of the two images it names."""

    index: int
    role: str                    # which image of the row this part is: "original" or "photo"
    answer: dict[str, Any]


def read_json_file(content: bytes) -> dict[str, ImagePart]:
    document = load_json(content)
    if isinstance(document, dict) and "alignments" in document:
        return read_alignments(document)
    if isinstance(document, dict) and {"annotation_sets", "categories", "images", "annotations"} <= set(document):
        return read_deepscores(document)
    raise ValueError("neither an alignments file ({\"alignments\": [...]}, as Loupe exports) nor DeepScoresV2 "
                     "JSON (annotation_sets, categories, images, annotations)")


READERS = {".json": read_json_file}


def read_alignments(document: dict) -> dict[str, ImagePart]:
    c = Checker()
    rows = c.lst(document["alignments"], "$.alignments") or []
    out: dict[str, ImagePart] = {}
    for i, row in enumerate(rows):
        path = f"$.alignments[{i}]"
        row = c.obj(row, path)
        if row is None:
            continue
        answer = {k: row[k] for k in ANSWER_KEYS if k in row}
        for role in ("original", "photo"):
            name = row.get(role)
            if not isinstance(name, str) or not name:
                c.fail(f"{path}.{role}", f"must name the pair's {role} image (got {shown(name)})")
            elif name in out:
                c.fail(f"{path}.{role}", f"{name!r} is named by an earlier row too")
            else:
                out[name] = ImagePart(AlignmentRow(i, role, answer), name, path=f"{path}.{role}")
    c.raise_if_any()
    return out


def read_deepscores(document: dict) -> dict[str, ImagePart]:
    c = Checker()
    categories = c.obj(document["categories"], "$.categories") or {}
    anns = c.obj(document["annotations"], "$.annotations") or {}
    images = c.lst(document["images"], "$.images") or []
    c.raise_if_any()
    names: dict[str, str] = {}   # category id -> DS2 class, of the deepscores set only
    for key, cat in categories.items():
        if isinstance(cat, dict) and cat.get("annotation_set", "deepscores") == "deepscores":
            if cat.get("name") not in DS2_ID:
                c.fail(f"$.categories.{key}.name", f"{shown(cat.get('name'))} is no DeepScoresV2 class")
            else:
                names[str(key)] = cat["name"]
    out: dict[str, ImagePart] = {}
    for i, image in enumerate(images):
        path = f"$.images[{i}]"
        image = c.obj(image, path)
        if image is None:
            continue
        name = image.get("filename")
        if not isinstance(name, str) or not name or name in out:
            c.fail(f"{path}.filename", f"must name an image once (got {shown(name)})")
            continue
        width = c.whole(image.get("width"), f"{path}.width", "the image's width in pixels")
        height = c.whole(image.get("height"), f"{path}.height", "the image's height in pixels")
        ids = c.lst(image.get("ann_ids", []), f"{path}.ann_ids", MAX_SYMBOLS)
        if width is None or height is None or ids is None:
            continue
        page = _page(c, [(str(a), anns.get(str(a))) for a in ids], names, width, height, path)
        out[name] = ImagePart(page, name, width, height, path)
    c.raise_if_any()
    return out


def _page(c: Checker, anns: list[tuple[str, Any]], names: dict[str, str], width: int, height: int,
          path: str) -> dict[str, Any]:
    """The item meta of one DS2 image: symbols (DS2 class names), staff boxes and their five lines."""
    dims = AssetDims(width, height)
    symbols, staves = [], []
    for k, (key, ann) in enumerate(anns):
        at = f"$.annotations.{key}"
        if not isinstance(ann, dict):
            c.fail(f"{path}.ann_ids[{k}]", f"names no annotation of the file ({key!r})")
            continue
        cat_ids = ann.get("cat_id")
        cls = next((names[str(i)] for i in cat_ids if str(i) in names), None) if isinstance(cat_ids, list) else None
        if cls is None:
            c.fail(f"{at}.cat_id", f"names no DeepScoresV2 class of the file (got {shown(cat_ids)})")
            continue
        box = c.box(ann.get("a_bbox"), dims, f"{at}.a_bbox")
        if box is None:
            continue
        if cls == "staff":
            staves.append(box)
        else:
            symbols.append({"class": cls, "bbox": box})
    return {"symbols": symbols, "staves": staves, "staff_lines": staves_lines(staves)}


def assemble(parts: list[ImagePart | None], assets: list[AssetDims]) -> Imported:
    """A pair's proposal (an alignments row) or its original's symbols (a DS2 page)."""
    original, photo = parts
    content = (original or photo).content
    if isinstance(content, AlignmentRow):
        where = f"$.alignments[{content.index}]"
        if original is None or photo is None or original.content.index != photo.content.index:
            raise AnnotationError([{"path": where, "message": "must name both images of one uploaded pair (this "
                                                              "pair's original and photo are in different rows, or "
                                                              "one is not in the file)"}])
        if original.content.role != "original":
            raise AnnotationError([{"path": where, "message": f"names {original.name!r}, this pair's original, "
                                                              "as its photo"}])
        try:
            return Imported(validate(content.answer, assets))
        except AnnotationError as exc:   # the file's path, not the annotation's
            raise AnnotationError([{**e, "path": where + e["path"][1:]} for e in exc.errors]) from None
    if photo is not None:
        raise AnnotationError([{"path": photo.path, "message": f"{photo.name!r} is the pair's photo; DeepScoresV2 "
                                                               "symbols are imported for the original rendering "
                                                               "only (the photo's are moved from it)"}])
    check_sizes([original, None], assets)
    return Imported(None, original.content)
