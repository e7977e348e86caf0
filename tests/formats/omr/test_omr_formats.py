import importlib.util
import json
from pathlib import Path

import pytest

from formats.common import AnnotationError, AssetDims, ExportedItem
from formats.omr import validate
from formats.omr.alignments import from_alignments_json, to_alignments_json
from formats.omr.deepscores import (
    CATEGORIES,
    DS2_ID,
    ds2_class,
    from_deepscores,
    item_pages,
    to_coco,
    to_deepscores,
    transfer_box,
)

_spec = importlib.util.spec_from_file_location("coco_eval", Path(__file__).parents[1] / "coco_eval.py")
coco_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(coco_eval)

PAIR = [AssetDims(1240, 1754, "original"), AssetDims(1600, 1200, "photo")]
SHIFT = [[1, 0, 30], [0, 1, -20], [0, 0, 1]]
STAFF = [100, 112, 124, 136, 148]
SYMBOLS = [{"class": "noteheadBlack", "bbox": [200, 106, 214, 118]},   # centred on the line at 112
           {"class": "noteheadBlack", "bbox": [230, 112, 244, 124]},   # between 112 and 124: a space
           {"class": "noteheadHalf", "bbox": [260, 154, 274, 166]},    # on a ledger line at 160
           {"class": "ledgerLine", "bbox": [256, 159, 278, 161]},
           {"class": "stem", "bbox": [243, 60, 245, 118]},
           {"class": "barline", "bbox": [300, 100, 302, 148]},        # DS2 has no barline class
           {"class": "dynamicPiano", "bbox": [400, 200, 420, 220]}]


def test_reasons_come_from_the_list():
    ok = validate({"status": "rejected", "reasons": ["blur", "blur", "page curl"]}, PAIR)
    assert ok["reasons"] == ["blur", "page curl"]
    with pytest.raises(AnnotationError) as caught:
        validate({"status": "rejected", "reasons": ["blur", "cat on the page"]}, PAIR)
    assert caught.value.errors[0]["path"] == "$.reasons[1]"


def test_ds2_names_ids_and_the_notehead_split():
    assert DS2_ID["brace"] == 1 and DS2_ID["noteheadBlackOnLine"] == 25 and DS2_ID["ottavaBracket"] == 136
    assert len(CATEGORIES) == 136
    lines = STAFF + [160]
    assert [ds2_class(s["class"], s["bbox"], lines) for s in SYMBOLS] == [
        "noteheadBlackOnLine", "noteheadBlackInSpace", "noteheadHalfOnLine", "ledgerLine", "stem", None, "dynamicP"]


def test_transfer_through_a_homography():
    assert transfer_box([10, 10, 20, 30], SHIFT, 1600, 1200) == [40, 0, 50, 10]
    assert transfer_box([10, 10, 20, 15], SHIFT, 1600, 1200) is None   # moved off the photo


def omr_item(item_id, annotation):
    return ExportedItem(item_id=item_id, external_id=f"chorale-{item_id}", meta={"symbols": SYMBOLS,
                                                                               "staff_lines": STAFF},
                        assets=[{"id": 10 * item_id, "name": f"c{item_id}.original.png", "width": 1240, "height": 1754},
                                {"id": 10 * item_id + 1, "name": f"c{item_id}.photo.png", "width": 1600,
                                 "height": 1200}],
                        annotation=validate(annotation, PAIR))


ITEMS = [omr_item(1, {"status": "accepted", "homography": SHIFT}),
         omr_item(2, {"status": "rejected", "reasons": ["wrong page"]})]


def test_photo_side_symbols_in_coco_and_deepscores():
    pages = list(item_pages(ITEMS, "photo"))
    assert [p["file_name"] for p in pages] == ["c1.photo.png"]     # the rejected pair has no photo boxes
    coco = json.loads("".join(to_coco(pages)))
    assert coco["images"][0]["id"] == 11 and len(coco["annotations"]) == 6
    assert coco["annotations"][0]["bbox"] == [230, 86, 14, 12]
    assert coco_eval.self_ap(coco, "bbox") == pytest.approx(1.0, abs=1e-12)   # a mean over 5 classes
    ds = json.loads("".join(to_deepscores(item_pages(ITEMS, "photo"))))
    read = from_deepscores(ds)["c1.photo.png"]
    assert read[0] == ("noteheadBlackOnLine", [230.0, 86.0, 244.0, 98.0]) and len(read) == 6


def test_alignments_round_trip():
    back = from_alignments_json("".join(to_alignments_json(ITEMS)))
    assert back == {1: ITEMS[0].annotation, 2: ITEMS[1].annotation}
