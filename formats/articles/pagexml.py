"""PAGE XML (PRImA page content schema 2019-07-15): the one writer and the one reader of article pages.

Written as the PAGE 2019 XSD and OCR-D's PageValidator accept it:

- each article is a ``TextRegion`` whose id is the article id (an ``xs:ID``) and whose ``custom`` reads
  ``structure {type:article;}`` (the PRImA/Transkribus custom-attribute syntax); its outline in ``Coords``;
- the articles' order is always written as the ``ReadingOrder`` (one ``OrderedGroup``);
- each cut is a ``SeparatorRegion`` (``structure {type:cut;}``) whose ``Coords`` is a thin rectangle
  around the cut line (a polygon needs at least 3 points; OCR-D wants 4): the cut is the line through
  the middles of its short sides;
- the page type goes to ``Page/@custom`` (``pageType {value:ads;}``), and to ``Page/@type`` as the
  schema's own enumeration allows: ``content`` for an article page, ``other`` for the rest;
- scores, where present (model output), go to ``Coords/@conf``.

Coordinates in PAGE are non-negative integers: the writer rounds, so a round trip returns the
annotation exactly where its coordinates are whole pixels.

The reader also reads PAGE files written by other tools (Transkribus, Aletheia, OCR-D processors):
every ``TextRegion`` becomes an article except page furniture (header, footer, page number, marginalia,
catch-word, signature mark), whatever its ``structure`` type (``heading``, ``paragraph``, ...).
"""
from __future__ import annotations

import datetime as _dt
import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from formats.common.checker import is_ncname
from formats.common.items import ExportedItem

NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{NS} {NS}/pagecontent.xsd"
FURNITURE = {"header", "footer", "page-number", "catch-word", "signature-mark", "marginalia"}
_CUSTOM = re.compile(r"([\w-]+)\s*\{([^}]*)\}")


def parse_custom(custom: str) -> dict[str, dict[str, str]]:
    """``structure {type:heading;} readingOrder {index:0;}`` -> {"structure": {"type": "heading"}, ...}."""
    out: dict[str, dict[str, str]] = {}
    for tag, body in _CUSTOM.findall(custom or ""):
        pairs = (p.split(":", 1) for p in body.split(";") if ":" in p)
        out[tag] = {k.strip(): v.strip() for k, v in pairs}
    return out


def _xy(v: float) -> int:
    return max(0, math.floor(v + 0.5))


def _points(points: Sequence[Sequence[float]]) -> str:
    pts = [(_xy(x), _xy(y)) for x, y in points]
    if len(pts) == 3:
        pts.append(pts[0])  # OCR-D reads a polygon only from 4 points on: close the triangle
    return " ".join(f"{x},{y}" for x, y in pts)


def _cut_outline(cut: dict, width: int, height: int) -> list[tuple[int, int]]:
    """A rectangle one pixel either side of the cut line (the unit normal rounded to whole pixels)."""
    a = (_xy(cut["x0"]), _xy(cut["y0"]))
    b = (_xy(cut["x1"]), _xy(cut["y1"]))
    length = math.dist(a, b) or 1.0
    nx, ny = round(-(b[1] - a[1]) / length), round((b[0] - a[0]) / length)

    def clamp(x, y):
        return min(max(x, 0), width), min(max(y, 0), height)

    return [clamp(a[0] - nx, a[1] - ny), clamp(b[0] - nx, b[1] - ny), clamp(b[0] + nx, b[1] + ny),
            clamp(a[0] + nx, a[1] + ny)]


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def to_page_xml(annotation: dict[str, Any], width: int, height: int, image_filename: str = "page.png",
                creator: str = "Loupe", created: str | None = None) -> str:
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(_q("PcGts"), {f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION})
    md = ET.SubElement(root, _q("Metadata"))
    now = created or _dt.datetime.now(_dt.UTC).replace(microsecond=0, tzinfo=None).isoformat()
    ET.SubElement(md, _q("Creator")).text = creator
    ET.SubElement(md, _q("Created")).text = now
    ET.SubElement(md, _q("LastChange")).text = now
    page_type = annotation.get("page_type", "article")
    page = ET.SubElement(root, _q("Page"), {
        "imageFilename": image_filename, "imageWidth": str(int(width)), "imageHeight": str(int(height)),
        "type": "content" if page_type == "article" else "other", "custom": f"pageType {{value:{page_type};}}"})
    articles = _with_xml_ids(annotation.get("articles", []))
    if articles:
        ro = ET.SubElement(page, _q("ReadingOrder"))
        group = ET.SubElement(ro, _q("OrderedGroup"), {"id": _free_id("ro_articles", articles), "caption": "articles"})
        for i, a in enumerate(articles):
            ET.SubElement(group, _q("RegionRefIndexed"), {"index": str(i), "regionRef": a["id"]})
    for a in articles:
        region = ET.SubElement(page, _q("TextRegion"), {"id": a["id"], "custom": "structure {type:article;}"})
        attrs = {"points": _points(a["polygon"])}
        if a.get("score") is not None:
            attrs["conf"] = f"{min(1.0, max(0.0, float(a['score']))):.4f}"
        ET.SubElement(region, _q("Coords"), attrs)
    for i, c in enumerate(annotation.get("cuts", [])):
        region = ET.SubElement(page, _q("SeparatorRegion"), {"id": _free_id(f"cut{i + 1}", articles),
                                                             "custom": "structure {type:cut;}"})
        attrs = {"points": " ".join(f"{x},{y}" for x, y in _cut_outline(c, int(width), int(height)))}
        if c.get("score") is not None:
            attrs["conf"] = f"{min(1.0, max(0.0, float(c['score']))):.4f}"
        ET.SubElement(region, _q("Coords"), attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _with_xml_ids(articles: list[dict]) -> list[dict]:
    """The articles with ids that are valid and unique XML ids: the validator enforces this for new
    annotations; older ones (``"Sport 1"``) get ``_Sport_1`` rather than break the whole export."""
    out, taken = [], set()
    for a in articles:
        aid = str(a["id"])
        if not is_ncname(aid):
            aid = "_" + re.sub(r"[^A-Za-z0-9_.-]", "_", aid)
        while aid in taken:
            aid += "_"
        taken.add(aid)
        out.append({**a, "id": aid})
    return out


def _free_id(wanted: str, articles: list[dict]) -> str:
    taken = {a["id"] for a in articles}
    while wanted in taken:
        wanted = "_" + wanted
    return wanted


def _parse_points(text: str) -> list[list[float]]:
    out = []
    for pair in (text or "").split():
        x, y = (float(v) for v in pair.split(",", 1))
        out.append([int(x) if x.is_integer() else x, int(y) if y.is_integer() else y])
    if len(out) > 3 and out[0] == out[-1]:
        out.pop()  # a closed outline: the last point repeats the first
    return out


def _cut_from_outline(p: list[list[float]]) -> dict[str, float]:
    if len(p) == 2:
        (x0, y0), (x1, y1) = p
    elif len(p) == 4:  # the writer's rectangle: the middles of the two short sides
        sides = [(p[0], p[3], p[1], p[2]), (p[0], p[1], p[3], p[2])]
        a0, a1, b0, b1 = min(sides, key=lambda s: math.dist(s[0], s[1]) + math.dist(s[2], s[3]))
        x0, y0 = (a0[0] + a1[0]) / 2, (a0[1] + a1[1]) / 2
        x1, y1 = (b0[0] + b1[0]) / 2, (b0[1] + b1[1]) / 2
    else:  # another tool's outline: the middle line along its long side
        xs, ys = [a for a, _ in p], [b for _, b in p]
        if max(xs) - min(xs) >= max(ys) - min(ys):
            x0, x1, y0 = min(xs), max(xs), (min(ys) + max(ys)) / 2
            y1 = y0
        else:
            y0, y1, x0 = min(ys), max(ys), (min(xs) + max(xs)) / 2
            x1 = x0
    return {"x0": x0, "y0": y0, "x1": x1, "y1": y1}


def from_page_xml(xml: str | bytes) -> tuple[dict[str, Any], int, int]:
    """(annotation, width, height) of a PAGE document (any PAGE version's namespace). Raises ValueError
    for a document that is not PAGE; the annotation still needs the kind's validator."""
    annotation, width, height, _ = read_page(xml)
    return annotation, width, height


def read_page(xml: str | bytes) -> tuple[dict[str, Any], int, int, str]:
    """``from_page_xml`` and the image file name the document is about (``Page/@imageFilename``)."""
    annotation, width, height, name, _ = read_page_with_sources(xml)
    return annotation, width, height, name


def read_page_with_sources(xml: str | bytes) -> tuple[dict[str, Any], int, int, str, dict[str, list[str]]]:
    """``read_page`` and where each article and cut comes from ({"articles": [element path], "cuts": [...]},
    in the annotation's order), for messages that name the file's elements."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    q = (lambda t: f"{{{ns}}}{t}") if ns else (lambda t: t)
    if root.tag != q("PcGts"):
        raise ValueError(f"not a PAGE document: the root element is {root.tag.split('}')[-1]!r}, not PcGts")
    page = root.find(q("Page"))
    if page is None:
        raise ValueError("not a PAGE document: no Page element")
    try:
        width, height = int(page.get("imageWidth", 0)), int(page.get("imageHeight", 0))
    except ValueError:
        raise ValueError("Page/@imageWidth and @imageHeight must be whole numbers") from None
    custom = parse_custom(page.get("custom", ""))
    legacy = re.search(r"page_type:([\w-]+)", page.get("custom", ""))
    page_type = (custom.get("pageType", {}).get("value") or (legacy.group(1) if legacy else None)
                 or {"content": "article", "advert": "ads"}.get(page.get("type", "content"), "other"))
    order = [r.get("regionRef") for r in page.iter() if r.tag in (q("RegionRefIndexed"), q("RegionRef"))]
    rank = {ref: i for i, ref in enumerate(order)}
    articles = []
    for n, region in enumerate(page.findall(q("TextRegion"))):
        structure = parse_custom(region.get("custom", "")).get("structure", {}).get("type")
        if structure in FURNITURE or region.get("type") in FURNITURE:
            continue  # page furniture, not an article
        coords = region.find(q("Coords"))
        if coords is None:
            continue
        legacy = re.search(r"article:([\w.-]+)", region.get("custom", ""))
        article = {"id": legacy.group(1) if legacy else region.get("id", f"a{n + 1}"),
                   "polygon": _parse_points(coords.get("points", ""))}
        if coords.get("conf"):
            article["score"] = float(coords.get("conf"))
        articles.append((rank.get(region.get("id"), len(rank) + n), article, _element_path(region, "TextRegion", n)))
    articles.sort(key=lambda t: t[0])
    cuts, cut_sources = [], []
    for n, region in enumerate(page.findall(q("SeparatorRegion"))):
        coords = region.find(q("Coords"))
        points = _parse_points(coords.get("points", "")) if coords is not None else []
        if len(points) < 2:
            continue
        cut = _cut_from_outline(points)
        cut = {k: int(v) if float(v).is_integer() else v for k, v in cut.items()}
        if coords.get("conf"):
            cut["score"] = float(coords.get("conf"))
        cuts.append(cut)
        cut_sources.append(_element_path(region, "SeparatorRegion", n))
    annotation = {"page_type": page_type, "cuts": cuts, "articles": [a for _, a, _ in articles]}
    sources = {"articles": [where for _, _, where in articles], "cuts": cut_sources}
    return annotation, width, height, page.get("imageFilename", ""), sources


def _element_path(region: ET.Element, tag: str, n: int) -> str:
    """A region's path as messages name it: by its id where it has one, else by its position."""
    return f"/PcGts/Page/{tag}" + (f"[@id={region.get('id')!r}]" if region.get("id") else f"[{n + 1}]")


def page_xml_zip(items: Iterable[ExportedItem]) -> Iterator[bytes]:
    """A zip of one PAGE XML per accepted page, yielded as it is written (the archive never sits whole
    in memory)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in items:
            asset = item.assets[0]
            zf.writestr(f"{item.stem}.xml", to_page_xml(item.annotation, asset["width"], asset["height"],
                                                        asset["name"]))
            yield sink.take()
    yield sink.take()


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream that hands over what was written since the last ``take``; zipfile
    then writes data descriptors instead of seeking back."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out
