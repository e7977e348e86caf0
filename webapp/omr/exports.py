"""OMR exports: verified alignments as JSON (homography per pair) for ground-truth transfer."""
import json

from webapp.labeling.kinds import ExportedItem


def to_alignments_json(items: list[ExportedItem]) -> str:
    rows = []
    for item in items:
        original, photo = item.assets
        rows.append({"item": item.item_id, "external_id": item.external_id,
                     "original": original["name"], "original_sha256": original["sha256"],
                     "photo": photo["name"], "photo_sha256": photo["sha256"],
                     "status": item.annotation["status"], "homography": item.annotation["homography"],
                     "point_pairs": item.annotation["point_pairs"], "reasons": item.annotation["reasons"]})
    return json.dumps({"alignments": rows}, indent=1)
