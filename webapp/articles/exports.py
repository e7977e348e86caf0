"""Article exports: PAGE XML (PRImA 2019, one file per page, bundled in a zip) and COCO polygons."""
import io
import json
import zipfile
from datetime import datetime, timezone
from xml.sax.saxutils import quoteattr

from webapp.labeling.kinds import ExportedItem

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
PAGE_TYPE_TO_PRIMA = {"article": "content", "ads": "advert", "tv": "content", "shares": "content",
                      "sports": "content", "other": "other"}


def page_xml(item: ExportedItem) -> str:
    asset = item.assets[0]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    ann = item.annotation
    regions = []
    for art in ann["articles"]:
        points = " ".join(f"{round(x)},{round(y)}" for x, y in art["polygon"])
        regions.append(f'    <TextRegion id={quoteattr("r_" + art["id"])} custom={quoteattr("article:" + art["id"])}>\n'
                       f'      <Coords points="{points}"/>\n    </TextRegion>')
    for i, cut in enumerate(ann["cuts"]):
        points = f'{round(cut["x0"])},{round(cut["y0"])} {round(cut["x1"])},{round(cut["y1"])}'
        regions.append(f'    <SeparatorRegion id="cut_{i + 1}">\n      <Coords points="{points}"/>\n    </SeparatorRegion>')
    body = "\n".join(regions)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<PcGts xmlns="{PAGE_NS}">\n'
            f"  <Metadata><Creator>Loupe</Creator><Created>{now}</Created><LastChange>{now}</LastChange></Metadata>\n"
            f'  <Page imageFilename={quoteattr(asset["name"])} imageWidth="{asset["width"]}" imageHeight="{asset["height"]}"'
            f' type="{PAGE_TYPE_TO_PRIMA[ann["page_type"]]}" custom={quoteattr("page_type:" + ann["page_type"])}>\n'
            f"{body}\n  </Page>\n</PcGts>\n")


def to_page_xml_zip(items: list[ExportedItem]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in items:
            stem = (item.external_id or f"item-{item.item_id}").replace("/", "_")
            zf.writestr(f"{stem}.xml", page_xml(item))
    return buffer.getvalue()


def to_coco(items: list[ExportedItem]) -> str:
    images, annotations = [], []
    for item in items:
        asset = item.assets[0]
        image_id = len(images) + 1
        images.append({"id": image_id, "file_name": asset["name"], "width": asset["width"], "height": asset["height"],
                       "loupe_item": item.item_id, "page_type": item.annotation["page_type"]})
        for art in item.annotation["articles"]:
            xs = [p[0] for p in art["polygon"]]
            ys = [p[1] for p in art["polygon"]]
            area = 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1)
                                 in zip(art["polygon"], art["polygon"][1:] + art["polygon"][:1])))
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": 1,
                                "segmentation": [[v for p in art["polygon"] for v in p]],
                                "bbox": [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)],
                                "area": area, "iscrowd": 0, "article_id": art["id"]})
    return json.dumps({"images": images, "annotations": annotations,
                       "categories": [{"id": 1, "name": "article"}]}, indent=1)
