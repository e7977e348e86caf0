"""Music symbols in DeepScoresV2's terms: its 136 class names with its fixed ids, the mapping from the
renderer's SMuFL-based names, and the DS2 JSON and COCO writers (original-side boxes, and photo-side
boxes transferred through an accepted homography).

DeepScoresV2 (Tuggener et al., 2020) splits noteheads by position: ``noteheadBlackOnLine`` /
``noteheadBlackInSpace`` etc.; a notehead is on a line when a staff or ledger line passes through its
middle half. Renderer classes with no DS2 counterpart (``barline``, composite dynamics such as
``dynamicMF``, ``accidentalParens*``...) are listed in ``UNMAPPED`` and left out of DS2 exports.

A page with staff lines also gets DS2's ``staff`` boxes (one per staff of lines, as wide as the symbols
on it). DS2's ``area`` is the symbol's count of ink pixels; boxes are all Loupe has, so its ``area`` is
the box's, rounded to a whole number as in the dataset.
"""
from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from formats.common.coco import CocoImage, shape_annotation, write_coco
from formats.common.geometry import apply_homography

# The "deepscores" annotation set of DeepScoresV2, ids 1..136 in this order.
DS2_CLASSES = (
    "brace", "legerLine", "repeatDot", "segno", "coda", "clefG", "clefCAlto", "clefCTenor", "clefF",
    "clefUnpitchedPercussion", "clef8", "clef15", "timeSig0", "timeSig1", "timeSig2", "timeSig3", "timeSig4",
    "timeSig5", "timeSig6", "timeSig7", "timeSig8", "timeSig9", "timeSigCommon", "timeSigCutCommon",
    "noteheadBlackOnLine", "noteheadBlackOnLineSmall", "noteheadBlackInSpace", "noteheadBlackInSpaceSmall",
    "noteheadHalfOnLine", "noteheadHalfOnLineSmall", "noteheadHalfInSpace", "noteheadHalfInSpaceSmall",
    "noteheadWholeOnLine", "noteheadWholeOnLineSmall", "noteheadWholeInSpace", "noteheadWholeInSpaceSmall",
    "noteheadDoubleWholeOnLine", "noteheadDoubleWholeOnLineSmall", "noteheadDoubleWholeInSpace",
    "noteheadDoubleWholeInSpaceSmall", "augmentationDot", "stem", "tremolo1", "tremolo2", "tremolo3", "tremolo4",
    "tremolo5", "flag8thUp", "flag8thUpSmall", "flag16thUp", "flag32ndUp", "flag64thUp", "flag128thUp",
    "flag8thDown", "flag8thDownSmall", "flag16thDown", "flag32ndDown", "flag64thDown", "flag128thDown",
    "accidentalFlat", "accidentalFlatSmall", "accidentalNatural", "accidentalNaturalSmall", "accidentalSharp",
    "accidentalSharpSmall", "accidentalDoubleSharp", "accidentalDoubleFlat", "keyFlat", "keyNatural", "keySharp",
    "articAccentAbove", "articAccentBelow", "articStaccatoAbove", "articStaccatoBelow", "articTenutoAbove",
    "articTenutoBelow", "articStaccatissimoAbove", "articStaccatissimoBelow", "articMarcatoAbove",
    "articMarcatoBelow", "fermataAbove", "fermataBelow", "caesura", "restDoubleWhole", "restWhole", "restHalf",
    "restQuarter", "rest8th", "rest16th", "rest32nd", "rest64th", "rest128th", "restHNr", "dynamicP", "dynamicM",
    "dynamicF", "dynamicS", "dynamicZ", "dynamicR", "graceNoteAcciaccaturaStemUp", "graceNoteAppoggiaturaStemUp",
    "graceNoteAcciaccaturaStemDown", "graceNoteAppoggiaturaStemDown", "ornamentTrill", "ornamentTurn",
    "ornamentTurnInverted", "ornamentMordent", "stringsDownBow", "stringsUpBow", "arpeggiato", "keyboardPedalPed",
    "keyboardPedalUp", "tuplet3", "tuplet6", "fingering0", "fingering1", "fingering2", "fingering3", "fingering4",
    "fingering5", "slur", "beam", "tie", "restHBar", "dynamicCrescendoHairpin", "dynamicDiminuendoHairpin",
    "tuplet1", "tuplet2", "tuplet4", "tuplet5", "tuplet7", "tuplet8", "tuplet9", "tupletBracket", "staff",
    "ottavaBracket",
)
DS2_ID = {name: i + 1 for i, name in enumerate(DS2_CLASSES)}
CATEGORIES = [{"id": DS2_ID[n], "name": n, "supercategory": "symbol"} for n in DS2_CLASSES]

# Renderer names that differ from DS2's (same-named classes map to themselves). DS2 spells the ledger line
# ``legerLine``; the renderer (and SMuFL) say ``ledgerLine``.
RENAMED = {
    "ledgerLine": "legerLine",
    "clefG8vb": "clefG", "clefG8va": "clefG", "ottava": "ottavaBracket",
    "dynamicPiano": "dynamicP", "dynamicMezzo": "dynamicM", "dynamicForte": "dynamicF",
    "dynamicSforzando": "dynamicS", "dynamicRinforzando": "dynamicR",
}
NOTEHEADS = {"noteheadBlack": "noteheadBlack", "noteheadHalf": "noteheadHalf", "noteheadWhole": "noteheadWhole",
             "noteheadDoubleWhole": "noteheadDoubleWhole"}
UNMAPPED = frozenset({
    "barline", "bracket", "hairpin", "noteheadXBlack", "accidentalParensLeft", "accidentalParensRight",
    "ornamentMordentInverted", "breathMarkComma", "tuplet0", "dynamicNiente", "dynamicPF", "dynamicFortePiano",
    "dynamicForzando", "dynamicSforzando1", "dynamicSforzato", "dynamicRinforzando1", "dynamicMP", "dynamicMF",
    "dynamicPP", "dynamicPPP", "dynamicPPPP", "dynamicPPPPP", "dynamicPPPPPP", "dynamicFF", "dynamicFFF",
    "dynamicFFFF",
})


def on_line(box: Sequence[float], lines: Iterable[float]) -> bool:
    """True when one of the horizontal lines (staff and ledger lines' y) crosses the middle half of the box."""
    _, y0, _, y1 = box
    quarter = (y1 - y0) / 4
    return any(y0 + quarter <= y <= y1 - quarter for y in lines)


def ds2_class(cls: str, box: Sequence[float], lines: Iterable[float] = ()) -> str | None:
    """The DS2 class name of a renderer class (noteheads by position), or None where DS2 has none."""
    if cls in NOTEHEADS:
        return NOTEHEADS[cls] + ("OnLine" if on_line(box, lines) else "InSpace")
    name = RENAMED.get(cls, cls)
    return name if name in DS2_ID else None


def page_lines(page: dict[str, Any]) -> list[float]:
    """The y of every staff line and ledger line of a page record."""
    ledger = [(s["bbox"][1] + s["bbox"][3]) / 2 for s in page.get("symbols", [])
              if s["class"] in ("ledgerLine", "legerLine")]
    return list(page.get("staff_lines", [])) + ledger


def staves(staff_lines: Iterable[float]) -> list[tuple[float, float]]:
    """(top, bottom) line of each staff: sorted lines split where a gap is over twice the usual line
    spacing (the median gap: within staves there are four gaps to each one between them). A line drawn in
    pieces (one per measure) counts once."""
    ys: list[float] = []
    for y in sorted(staff_lines):
        if not ys or y - ys[-1] > 0.5:
            ys.append(y)
    if len(ys) < 2:
        return []
    gaps = [b - a for a, b in zip(ys, ys[1:])]
    spacing = sorted(gaps)[len(gaps) // 2]
    out, top = [], ys[0]
    for prev, y in zip(ys, ys[1:]):
        if y - prev > 2 * spacing:
            out.append((top, prev))
            top = y
    out.append((top, ys[-1]))
    return [(t, b) for t, b in out if b > t]


def staves_lines(boxes: Iterable[Sequence[float]]) -> list[float]:
    """The five lines of each staff box (top to bottom line, evenly spaced): what DS2's ``staff`` boxes
    say of where noteheads sit."""
    return [round(y0 + k * (y1 - y0) / 4, 3) for _, y0, _, y1 in boxes for k in range(5)]


def staff_boxes(page: dict[str, Any]) -> list[list[float]]:
    """A DS2 ``staff`` box per staff of the page's ``staff_lines``: from its top to its bottom line, as wide
    as the symbols that reach into it (barlines and clefs span a staff); a staff no symbol touches has no
    known extent and no box. A page record's own ``staves`` (boxes read from a DS2 file) win."""
    if page.get("staves"):
        return [[float(v) for v in box] for box in page["staves"]]
    out = []
    for top, bottom in staves(page.get("staff_lines", [])):
        xs = [(s["bbox"][0], s["bbox"][2]) for s in page.get("symbols", [])
              if s["bbox"][1] < bottom and s["bbox"][3] > top]
        if xs:
            out.append([float(min(x for x, _ in xs)), float(top), float(max(x for _, x in xs)), float(bottom)])
    return out


def transfer_box(box: Sequence[float], homography, width: float, height: float) -> list[float] | None:
    """The box around the four mapped corners of ``box``, clipped to the photo; None when nothing is left."""
    x0, y0, x1, y1 = box
    pts = [apply_homography(homography, x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    out = [max(0.0, min(xs)), max(0.0, min(ys)), min(float(width), max(xs)), min(float(height), max(ys))]
    return out if out[2] > out[0] and out[3] > out[1] else None


def ds2_symbols(page: dict[str, Any]) -> list[tuple[str, list[float]]]:
    """(DS2 class, box) of a page record's symbols that DS2 names, in the page's order."""
    lines = page_lines(page)
    out = []
    for s in page.get("symbols", []):
        name = ds2_class(s["class"], s["bbox"], lines)
        if name is not None:
            out.append((name, [float(v) for v in s["bbox"]]))
    return out + [("staff", box) for box in staff_boxes(page)]


def photo_page(page: dict[str, Any], homography, photo: dict[str, Any]) -> dict[str, Any]:
    """The page record with its symbols moved to the photo through the original -> photo homography."""
    lines = page_lines(page)
    symbols = []
    for s in page.get("symbols", []):
        name = ds2_class(s["class"], s["bbox"], lines)  # classify on the original, where lines are straight
        box = transfer_box(s["bbox"], homography, photo["width"], photo["height"])
        if name is not None and box is not None:
            symbols.append({"class": s["class"], "ds2": name, "bbox": box})
    for staff in staff_boxes(page):
        box = transfer_box(staff, homography, photo["width"], photo["height"])
        if box is not None:
            symbols.append({"class": "staff", "ds2": "staff", "bbox": box})
    return {**photo, "symbols": symbols}


def _classified(page: dict[str, Any]) -> list[tuple[str, list[float]]]:
    if page.get("symbols") and all("ds2" in s for s in page["symbols"]):
        return [(s["ds2"], s["bbox"]) for s in page.get("symbols", [])]
    return ds2_symbols(page)


def to_deepscores(pages: Iterable[dict[str, Any]], description: str = "Loupe OMR",
                  created: str | None = None) -> Iterator[str]:
    """DeepScoresV2 JSON as chunks. ``pages``: records with ``file_name``, ``width``, ``height``,
    ``symbols`` ([{"class", "bbox": [x0, y0, x1, y1]}]) and optionally ``staff_lines`` and ``id``.
    ``created`` (``YYYY-MM-DD``, today by default) dates the ``info`` block, whose keys are the dataset's."""
    day = created or _dt.date.today().isoformat()
    info = {"description": description, "version": "2.0", "year": int(day[:4]), "contributor": "Loupe",
            "date_created": day, "url": ""}
    head = {"info": info, "annotation_sets": ["deepscores"],
            "categories": {str(DS2_ID[n]): {"name": n, "annotation_set": "deepscores", "color": 0}
                           for n in DS2_CLASSES}}
    yield json.dumps(head)[:-1] + ', "annotations": {'
    images, next_id = [], 1
    for n, page in enumerate(pages, start=1):
        ids, parts = [], []
        for name, (x0, y0, x1, y1) in _classified(page):
            ann = {"a_bbox": [x0, y0, x1, y1], "o_bbox": [x1, y1, x1, y0, x0, y0, x0, y1],
                   "cat_id": [str(DS2_ID[name])], "area": round((x1 - x0) * (y1 - y0)),
                   "img_id": str(page.get("id", n)), "comments": ""}
            parts.append(("" if next_id == 1 else ",") + json.dumps(str(next_id)) + ":" + json.dumps(ann))
            ids.append(str(next_id))
            next_id += 1
        images.append({"id": page.get("id", n), "filename": page["file_name"], "width": page["width"],
                       "height": page["height"], "ann_ids": ids})
        yield "".join(parts)
    yield '}, "images": ' + json.dumps(images) + "}\n"


def from_deepscores(document: dict[str, Any]) -> dict[str, list[tuple[str, list[float]]]]:
    """{file name: [(DS2 class, box)]} of a DeepScoresV2 document (its own category table)."""
    names = {k: v["name"] for k, v in document["categories"].items()}
    anns = document["annotations"]
    return {img["filename"]: [(names[anns[a]["cat_id"][0]], list(anns[a]["a_bbox"])) for a in img["ann_ids"]]
            for img in document["images"]}


def to_coco(pages: Iterable[dict[str, Any]], description: str = "Loupe OMR symbols") -> Iterator[str]:
    """COCO detection with DS2's class names and ids as categories (fixed, whatever a page contains)."""
    def images() -> Iterator[CocoImage]:
        for n, page in enumerate(pages, start=1):
            anns = [shape_annotation(DS2_ID[name], box) for name, box in _classified(page)]
            yield CocoImage(id=page.get("id", n), file_name=page["file_name"], width=page["width"],
                            height=page["height"], extra=page.get("extra", {}), annotations=anns)
    return write_coco(images(), CATEGORIES, {"description": description})


def item_pages(items: Iterable[Any], side: str = "photo") -> Iterator[dict[str, Any]]:
    """Page records of accepted OMR items (``ExportedItem``s whose meta holds the original's ``symbols``
    and, optionally, ``staff_lines`` and ``staves``): the original side as rendered, or the photo side with the boxes
    moved through the item's homography (items without one, e.g. rejected pairs, are left out)."""
    for item in items:
        original, photo = item.assets
        page = {"id": original.get("id", item.item_id * 2), "file_name": original["name"],
                "width": original["width"], "height": original["height"],
                "symbols": item.meta.get("symbols", []), "staff_lines": item.meta.get("staff_lines", []),
                "staves": item.meta.get("staves", []),
                "extra": {"loupe_item": item.item_id, "side": "original"}}
        if side == "original":
            yield page
            continue
        homography = item.annotation.get("homography")
        if item.annotation.get("status") == "rejected" or homography is None:
            continue
        yield photo_page(page, homography, {"id": photo.get("id", item.item_id * 2 + 1), "file_name": photo["name"],
                                            "width": photo["width"], "height": photo["height"],
                                            "extra": {"loupe_item": item.item_id, "side": "photo"}})
