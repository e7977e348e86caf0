"""Catheter exports: COCO detection JSON (one image per shot) and a per-series verdict CSV."""
import csv
import io
import json

from webapp.catheter.schema import DEFECT_TYPES
from webapp.labeling.kinds import ExportedItem


def polygon_area(points: list[list[float]]) -> float:
    """Shoelace area of a simple polygon, in square pixels."""
    return 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1])))


def to_coco(items: list[ExportedItem]) -> str:
    categories = [{"id": i + 1, "name": t, "supercategory": "defect"} for i, t in enumerate(DEFECT_TYPES)]
    cat_id = {c["name"]: c["id"] for c in categories}
    images, annotations = [], []
    for item in items:
        for shot_index, (asset, shot) in enumerate(zip(item.assets, item.annotation["shots"])):
            image_id = len(images) + 1
            images.append({"id": image_id, "file_name": asset["name"], "width": asset["width"],
                           "height": asset["height"], "loupe_item": item.item_id, "shot": shot_index,
                           "sha256": asset["sha256"]})
            for d in shot["defects"]:
                x0, y0, x1, y1 = d["box"]
                ann = {"id": len(annotations) + 1, "image_id": image_id, "category_id": cat_id[d["type"]],
                       "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0), "iscrowd": 0}
                if d.get("polygon"):   # a drawn outline: COCO's segmentation, and its own area
                    ann["segmentation"] = [[v for p in d["polygon"] for v in p]]
                    ann["area"] = polygon_area(d["polygon"])
                # COCO has no polyline or point annotation: the box stands, the shape travels beside it.
                if d.get("polyline"):
                    ann["loupe_polyline"] = d["polyline"]
                if d.get("point"):
                    ann["loupe_point"] = d["point"]
                if d.get("id"):
                    ann["loupe_defect_id"] = d["id"]
                annotations.append(ann)
    return json.dumps({"images": images, "annotations": annotations, "categories": categories}, indent=1)


def to_verdict_csv(items: list[ExportedItem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["item", "external_id", "shots", "verdict", *DEFECT_TYPES])
    for item in items:
        counts = {t: 0 for t in DEFECT_TYPES}
        for shot in item.annotation["shots"]:
            for d in shot["defects"]:
                counts[d["type"]] += 1
        writer.writerow([item.item_id, item.external_id, len(item.assets), item.annotation["verdict"],
                         *[counts[t] for t in DEFECT_TYPES]])
    return out.getvalue()
