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
    staves,
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
        "noteheadBlackOnLine", "noteheadBlackInSpace", "noteheadHalfOnLine", "legerLine", "stem", None, "dynamicP"]
    assert CATEGORIES[1] == {"id": 2, "name": "legerLine", "supercategory": "symbol"}   # the dataset's spelling
    assert DS2_ID["staff"] == 135


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
    assert coco["images"][0]["id"] == 11 and len(coco["annotations"]) == 7     # 6 symbols and the staff
    assert coco["annotations"][0]["bbox"] == [230, 86, 14, 12]
    assert coco_eval.self_ap(coco, "bbox") == pytest.approx(1.0, abs=1e-12)   # a mean over 6 classes
    ds = json.loads("".join(to_deepscores(item_pages(ITEMS, "photo"))))
    read = from_deepscores(ds)["c1.photo.png"]
    assert read[0] == ("noteheadBlackOnLine", [230.0, 86.0, 244.0, 98.0]) and len(read) == 7
    assert read[-1] == ("staff", [230.0, 80.0, 332.0, 128.0])     # the original's staff, moved like the symbols


# DeepScoresV2's own file (the sample shipped with its loader, obb_anns): the keys of each part.
DS2_INFO_KEYS = {"description", "version", "year", "contributor", "date_created", "url"}
DS2_ANNOTATION_KEYS = {"a_bbox", "o_bbox", "cat_id", "area", "img_id", "comments"}
DS2_IMAGE_KEYS = {"id", "filename", "width", "height", "ann_ids"}


def test_deepscores_export_has_the_datasets_info_integer_areas_and_staff_boxes():
    ds = json.loads("".join(to_deepscores(item_pages(ITEMS, "original"), created="2026-12-07")))
    assert set(ds["info"]) == DS2_INFO_KEYS and ds["info"]["year"] == 2026 and ds["info"]["version"] == "2.0"
    assert ds["categories"]["2"]["name"] == "legerLine" and ds["categories"]["135"]["name"] == "staff"
    anns = ds["annotations"]
    assert all(set(a) == DS2_ANNOTATION_KEYS and isinstance(a["area"], int) for a in anns.values())
    assert all(set(image) == DS2_IMAGE_KEYS for image in ds["images"])
    # as the dataset's loader reads it: annotation ids and image ids are whole numbers, cat_id a list of ids
    assert all(int(k) > 0 and int(a["img_id"]) in {int(i["id"]) for i in ds["images"]} for k, a in anns.items())
    staff = [a for a in anns.values() if a["cat_id"] == ["135"]]
    # one staff per item page (both items' originals): from the top to the bottom line, as wide as its symbols
    assert [s["a_bbox"] for s in staff] == [[200.0, 100.0, 302.0, 148.0]] * 2
    assert staff[0]["area"] == 102 * 48
    leger = [a for a in anns.values() if a["cat_id"] == ["2"]]
    assert [a["a_bbox"] for a in leger][0] == [256.0, 159.0, 278.0, 161.0]


def test_staff_lines_group_into_staves_by_their_spacing():
    assert staves([100, 112, 124, 136, 148, 300, 312, 324, 336, 348]) == [(100, 148), (300, 348)]
    assert staves([100, 112, 124, 136, 148] * 4) == [(100, 148)]      # a line drawn once per measure
    assert staves([]) == [] and staves([100]) == []


def test_alignments_round_trip():
    back = from_alignments_json("".join(to_alignments_json(ITEMS)))
    assert back == {1: ITEMS[0].annotation, 2: ITEMS[1].annotation}
