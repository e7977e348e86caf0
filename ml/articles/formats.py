"""Exchange formats: PAGE XML (PRImA PAGE content schema, 2019-07-15) and COCO polygons.

PAGE: each article is a ``TextRegion`` whose ``custom`` attribute reads ``structure {type:article;}``
(the convention of PRImA-based newspaper projects), its outline in ``Coords``; each cut is a
``SeparatorRegion`` whose ``Coords`` hold the two endpoints; the articles' order is the ``ReadingOrder``;
the page type goes to ``Page/@type`` (``content`` for article pages, ``advert`` for ads, ``other`` else) and,
exactly, to ``Page/@custom`` (``pageType {value:tv;}``). Scores, when present, go to ``Coords/@conf``.
"""
from __future__ import annotations

import datetime as _dt
import re
import xml.etree.ElementTree as ET
from typing import Sequence

NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{NS} {NS}/pagecontent.xsd"
_PAGE_TYPE = {"article": "content", "ads": "advert", "tv": "other", "shares": "other", "sports": "other",
              "other": "other"}


def _pts(points: Sequence[Sequence[float]]) -> str:
    return " ".join(f"{max(0, int(round(x)))},{max(0, int(round(y)))}" for x, y in points)


def _parse_pts(s: str) -> list[list[int]]:
    return [[int(float(a)), int(float(b))] for a, b in (p.split(",") for p in s.split())]


def to_page_xml(annotation: dict, width: int, height: int, image_filename: str = "page.png",
                creator: str = "Loupe ml.articles") -> str:
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(f"{{{NS}}}PcGts", {f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION})
    md = ET.SubElement(root, f"{{{NS}}}Metadata")
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    ET.SubElement(md, f"{{{NS}}}Creator").text = creator
    ET.SubElement(md, f"{{{NS}}}Created").text = now
    ET.SubElement(md, f"{{{NS}}}LastChange").text = now
    pt = annotation.get("page_type", "article")
    page = ET.SubElement(root, f"{{{NS}}}Page", {"imageFilename": image_filename, "imageWidth": str(int(width)),
                                                 "imageHeight": str(int(height)), "type": _PAGE_TYPE.get(pt, "other"),
                                                 "custom": f"pageType {{value:{pt};}}"})
    arts = annotation.get("articles", [])
    if arts:
        ro = ET.SubElement(page, f"{{{NS}}}ReadingOrder")
        og = ET.SubElement(ro, f"{{{NS}}}OrderedGroup", {"id": "ro_articles", "caption": "articles"})
        for i, a in enumerate(arts):
            ET.SubElement(og, f"{{{NS}}}RegionRefIndexed", {"index": str(i), "regionRef": _rid(a["id"])})
    for a in arts:
        reg = ET.SubElement(page, f"{{{NS}}}TextRegion", {"id": _rid(a["id"]), "type": "paragraph",
                                                         "custom": f"structure {{type:article; id:{a['id']};}}"})
        attrs = {"points": _pts(a["polygon"])}
        if "score" in a:
            attrs["conf"] = f"{float(a['score']):.4f}"
        ET.SubElement(reg, f"{{{NS}}}Coords", attrs)
    for i, c in enumerate(annotation.get("cuts", [])):
        reg = ET.SubElement(page, f"{{{NS}}}SeparatorRegion", {"id": f"cut{i + 1}",
                                                              "custom": "structure {type:cut;}"})
        attrs = {"points": _pts([(c["x0"], c["y0"]), (c["x1"], c["y1"])])}
        if "score" in c:
            attrs["conf"] = f"{float(c['score']):.4f}"
        ET.SubElement(reg, f"{{{NS}}}Coords", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _rid(aid: str) -> str:
    return aid if re.match(r"^[A-Za-z_]", aid) else f"r_{aid}"


def from_page_xml(xml: str) -> tuple[dict, int, int]:
    """(annotation, width, height) from PAGE XML written by ``to_page_xml`` or by other PAGE tools (every
    TextRegion becomes an article unless its ``custom`` names another structure type; a SeparatorRegion's
    cut runs along the long axis of its outline)."""
    root = ET.fromstring(xml)
    ns = root.tag.split("}")[0].strip("{") if root.tag.startswith("{") else ""
    q = (lambda t: f"{{{ns}}}{t}") if ns else (lambda t: t)
    page = root.find(q("Page"))
    if page is None:
        raise ValueError("not a PAGE document: no Page element")
    w, h = int(page.get("imageWidth", 0)), int(page.get("imageHeight", 0))
    m = re.search(r"pageType\s*\{\s*value\s*:\s*([\w-]+)", page.get("custom", ""))
    ptype = m.group(1) if m else {"content": "article", "advert": "ads"}.get(page.get("type", "content"), "other")
    order = [r.get("regionRef") for r in page.iter(q("RegionRefIndexed"))]
    idx = {k: i for i, k in enumerate(order)}
    arts = []
    for reg in page.iter(q("TextRegion")):
        custom = reg.get("custom", "")
        st = re.search(r"structure\s*\{[^}]*type\s*:\s*([\w-]+)", custom)
        if st and st.group(1) != "article":
            continue
        aid = re.search(r"id\s*:\s*([\w-]+)", custom.split("structure", 1)[-1]) if st else None
        coords = reg.find(q("Coords"))
        if coords is None:
            continue
        a = {"id": aid.group(1) if aid else reg.get("id"), "polygon": _parse_pts(coords.get("points", ""))}
        if coords.get("conf"):
            a["score"] = float(coords.get("conf"))
        arts.append((idx.get(reg.get("id"), len(idx) + len(arts)), a))
    arts.sort(key=lambda t: t[0])
    cuts = []
    for reg in page.iter(q("SeparatorRegion")):
        coords = reg.find(q("Coords"))
        if coords is None:
            continue
        p = _parse_pts(coords.get("points", ""))
        if len(p) == 2:
            (x0, y0), (x1, y1) = p
        else:  # an outline: the mid-line along its long side
            xs, ys = [a for a, _ in p], [b for _, b in p]
            if max(xs) - min(xs) >= max(ys) - min(ys):
                x0, x1, y0 = min(xs), max(xs), (min(ys) + max(ys)) // 2
                y1 = y0
            else:
                y0, y1, x0 = min(ys), max(ys), (min(xs) + max(xs)) // 2
                x1 = x0
        c = {"x0": x0, "y0": y0, "x1": x1, "y1": y1}
        if coords.get("conf"):
            c["score"] = float(coords.get("conf"))
        cuts.append(c)
    return {"page_type": ptype, "cuts": cuts, "articles": [a for _, a in arts]}, w, h


def to_coco(pages: Sequence[dict]) -> dict:
    """COCO instance-segmentation JSON. ``pages``: dicts with ``file_name``, ``width``, ``height`` and an
    ``annotation`` in the platform format; every article becomes one polygon of category ``article``."""
    images, anns = [], []
    for i, p in enumerate(pages, start=1):
        images.append({"id": i, "file_name": p["file_name"], "width": int(p["width"]), "height": int(p["height"])})
        for a in p["annotation"].get("articles", []):
            pts = a["polygon"]
            xs, ys = [x for x, _ in pts], [y for _, y in pts]
            area = 0.5 * abs(sum(xs[k] * ys[k - 1] - xs[k - 1] * ys[k] for k in range(len(pts))))
            ann = {"id": len(anns) + 1, "image_id": i, "category_id": 1,
                   "segmentation": [[float(v) for xy in pts for v in xy]], "area": float(area),
                   "bbox": [float(min(xs)), float(min(ys)), float(max(xs) - min(xs)), float(max(ys) - min(ys))],
                   "iscrowd": 0, "attributes": {"article_id": a["id"]}}
            if "score" in a:
                ann["score"] = float(a["score"])
            anns.append(ann)
    return {"info": {"description": "Loupe articles"}, "images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "article", "supercategory": "page"}]}
