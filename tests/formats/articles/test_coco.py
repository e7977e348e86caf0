import importlib.util
import json
from pathlib import Path

import pytest

from formats.articles import validate
from formats.articles.coco import from_coco, to_coco
from formats.common import AnnotationError, AssetDims, ExportedItem

_spec = importlib.util.spec_from_file_location("coco_eval", Path(__file__).parents[1] / "coco_eval.py")
coco_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(coco_eval)

PAGE = [AssetDims(1000, 1400)]
ANN = validate({"page_type": "article", "cuts": [], "articles": [
    {"id": "lead", "polygon": [[0, 0], [1000, 0], [1000, 300], [0, 300]]},
    {"id": "a2", "polygon": [[0, 300], [500, 300], [500, 1400], [0, 1400]]},
    {"id": "a3", "polygon": [[500, 300], [1000, 300], [1000, 900], [750, 1400], [500, 1400]]}]}, PAGE)


def items():
    return [ExportedItem(item_id=i, external_id="", assets=[{"id": 40 + i, "name": f"p{i}.png", "width": 1000,
                                                           "height": 1400}], annotation=ANN) for i in (1, 2)]


def test_pycocotools_scores_the_polygons_at_ap_1():
    doc = json.loads("".join(to_coco(items())))
    assert [i["id"] for i in doc["images"]] == [41, 42]
    assert coco_eval.self_ap(doc, "bbox") == 1.0 and coco_eval.self_ap(doc, "segm") == 1.0
    assert doc["annotations"][2]["area"] == 500 * 600 + 0.5 * 250 * 500 + 250 * 500   # the pentagon, not its box


def test_read_back_equals_export_and_keeps_the_reading_order():
    back = from_coco(json.loads("".join(to_coco(items()))))
    assert back["p1.png"] == ANN


def test_bad_files_name_the_problem():
    doc = json.loads("".join(to_coco(items())))
    doc["annotations"][0]["image_id"] = 999
    doc["annotations"][1]["segmentation"] = [[1, 2, 3]]
    with pytest.raises(AnnotationError) as caught:
        from_coco(doc)
    paths = {e["path"] for e in caught.value.errors}
    assert {"$.annotations[0].image_id", "$.annotations[1].segmentation[0]"} <= paths
