import importlib.util
import json
from pathlib import Path

from formats.catheter import validate
from formats.catheter.coco import CATEGORIES, from_coco, to_coco
from formats.catheter.verdicts import read_verdict_csv, to_verdict_csv
from formats.common import AssetDims, ExportedItem

_spec = importlib.util.spec_from_file_location("coco_eval", Path(__file__).parents[1] / "coco_eval.py")
coco_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(coco_eval)

DIMS = [AssetDims(640, 480)] * 2


def item(item_id, annotation, link_ids=(None, None)):
    assets = [{"name": f"s{item_id}-{k}.png", "width": 640, "height": 480, "sha256": "0" * 64, "role": "",
               **({"id": link} if link is not None else {})} for k, link in enumerate(link_ids)]
    return ExportedItem(item_id=item_id, external_id=f"balloon-{item_id}", assets=assets,
                        annotation=validate(annotation, DIMS), meta={})


ANNOTATION = {"verdict": "defect", "shots": [
    {"defects": [{"type": "axial_scratch", "box": [100, 50, 300, 90],
                  "polygon": [[100, 50], [300, 60], [290, 90], [110, 80]], "id": "s1"},
                 {"type": "bubble", "box": [400, 400, 420, 420], "point": [410, 410]}]},
    {"defects": [{"type": "inclusion", "box": [10, 10, 40, 30], "polyline": [[10, 10], [40, 30]]},
                 {"type": "axial_scratch", "box": [120, 50, 320, 90], "id": "s1"}]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}, {"defects": []}]}


def export(items):
    return json.loads("".join(to_coco(items)))


def image_ids(doc: dict) -> dict[str, int]:
    return {i["file_name"]: i["id"] for i in doc["images"]}


def test_pycocotools_scores_the_export_against_itself_at_ap_1_for_boxes_and_masks():
    doc = export([item(1, ANNOTATION), item(2, OK)])
    assert coco_eval.self_ap(doc, "bbox") == 1.0
    assert coco_eval.self_ap(doc, "segm") == 1.0   # every defect has a segmentation, box-only ones too


def test_area_is_the_polygon_area_and_box_only_defects_get_their_box_outline():
    doc = export([item(1, ANNOTATION)])
    scratch, bubble = doc["annotations"][:2]
    _, _, w, h = scratch["bbox"]
    assert 0 < scratch["area"] < w * h      # the polygon's area, not the box's
    assert bubble["segmentation"] == [[400, 400, 420, 400, 420, 420, 400, 420]] and bubble["area"] == 400


def test_image_ids_are_stable_and_categories_fixed():
    alone = export([item(5, OK, (71, 72))])
    more = export([item(3, ANNOTATION, (61, 62)), item(5, OK, (71, 72))])
    assert image_ids(alone).items() <= image_ids(more).items()
    assert image_ids(export([item(5, OK)])) == {"s5-0.png": 5000, "s5-1.png": 5001}
    assert export([item(5, OK)])["categories"] == CATEGORIES and len(CATEGORIES) == 4


def test_the_reader_gives_back_what_was_exported():
    items = [item(1, ANNOTATION), item(2, OK)]
    back = from_coco(export(items))
    assert back == {1: items[0].annotation, 2: items[1].annotation}


def test_verdict_csv_round_trip():
    rows = read_verdict_csv("".join(to_verdict_csv([item(1, ANNOTATION), item(2, OK)])))
    assert rows[0] == {"item": 1, "external_id": "balloon-1", "shots": 2, "verdict": "defect",
                       "axial_scratch": 2, "radial_scratch": 0, "inclusion": 1, "bubble": 1}
    assert rows[1]["verdict"] == "ok"
