"""The omr kind's importers: its own alignments export and DeepScoresV2 JSON, each file taken whole or
refused with the JSON path of what is wrong."""
from __future__ import annotations

import json

import pytest

from formats.common import AnnotationError, AssetDims, ExportedItem
from formats.common.imports import Imported
from formats.omr import validate
from formats.omr.alignments import to_alignments_json
from formats.omr.deepscores import DS2_ID, item_pages, to_deepscores
from formats.omr.imports import assemble, read_json_file

PAIR = [AssetDims(1240, 1754, "original"), AssetDims(1600, 1200, "photo")]
SHIFT = [[1, 0, 30], [0, 1, -20], [0, 0, 1]]
STAFF = [100, 112, 124, 136, 148]
SYMBOLS = [{"class": "noteheadBlack", "bbox": [200, 106, 214, 118]},
           {"class": "ledgerLine", "bbox": [256, 159, 278, 161]}, {"class": "barline", "bbox": [300, 100, 302, 148]},
           {"class": "stem", "bbox": [243, 60, 245, 118]}]


def item(item_id, annotation):
    return ExportedItem(item_id=item_id, external_id=f"c{item_id}", meta={"symbols": SYMBOLS, "staff_lines": STAFF},
                        assets=[{"name": f"c{item_id}.original.png", "width": 1240, "height": 1754},
                                {"name": f"c{item_id}.photo.png", "width": 1600, "height": 1200}],
                        annotation=validate(annotation, PAIR))


ITEMS = [item(1, {"status": "accepted", "homography": SHIFT}),
         item(2, {"status": "rejected", "reasons": ["wrong page"]})]


def imported(content: bytes | str, names: tuple[str, str]) -> Imported:
    parts = read_json_file(content.encode() if isinstance(content, str) else content)
    return assemble([parts.get(names[0]), parts.get(names[1])], PAIR)


def refusal(content: str, names=("c1.original.png", "c1.photo.png")) -> list[str]:
    with pytest.raises((AnnotationError, ValueError)) as caught:
        imported(content, names)
    errors = getattr(caught.value, "errors", None)
    return [f"{e['path']}: {e['message']}" for e in errors] if errors else [str(caught.value)]


def test_our_own_alignments_export_comes_back_as_each_pairs_proposal():
    text = "".join(to_alignments_json(ITEMS))
    for it in ITEMS:
        back = imported(text, (it.assets[0]["name"], it.assets[1]["name"]))
        assert back == Imported(it.annotation)


def test_bad_alignment_rows_are_refused_with_the_files_path():
    rows = json.loads("".join(to_alignments_json(ITEMS)))
    rows["alignments"][0]["homography"] = [[1, 0, 0], [0, 1, 0], [0, 0, 0]]
    assert refusal(json.dumps(rows)) == ["$.alignments[0].homography: is singular (degenerate): it cannot map the page"]
    rows = json.loads("".join(to_alignments_json(ITEMS)))
    rows["alignments"][0]["photo"] = "c2.photo.png"
    rows["alignments"][1]["photo"] = "c1.photo.png"
    assert refusal(json.dumps(rows))[0].startswith("$.alignments[0]: must name both images of one uploaded pair")
    rows["alignments"][1]["original"] = 7
    assert refusal(json.dumps(rows)) == ["$.alignments[1].original: must name the pair's original image (got 7)"]
    assert refusal('{"pages": []}')[0].startswith("neither an alignments file")


def ds2(side="original", created="2026-12-07") -> dict:
    return json.loads("".join(to_deepscores(item_pages(ITEMS[:1], side), created=created)))


def test_a_deepscores_page_becomes_the_originals_symbols_and_staves():
    back = imported(json.dumps(ds2()), ("c1.original.png", "c1.photo.png"))
    assert back.annotation is None           # symbols are no answer to the alignment
    assert back.meta["staves"] == [[200.0, 100.0, 302.0, 148.0]] and back.meta["staff_lines"] == STAFF
    assert {"class": "noteheadBlackOnLine", "bbox": [200.0, 106.0, 214.0, 118.0]} in back.meta["symbols"]
    assert {"class": "legerLine", "bbox": [256.0, 159.0, 278.0, 161.0]} in back.meta["symbols"]
    # exported again, the page is the same DeepScoresV2 file
    again = ExportedItem(item_id=1, external_id="c1", meta=back.meta, assets=ITEMS[0].assets,
                         annotation=ITEMS[0].annotation)
    assert json.loads("".join(to_deepscores(item_pages([again], "original"), created="2026-12-07"))) == ds2()


def test_bad_deepscores_files_are_refused_with_the_path():
    doc = ds2()
    key = next(iter(doc["annotations"]))
    doc["annotations"][key]["a_bbox"] = [1200, 10, 1300, 20]
    assert refusal(json.dumps(doc)) == [f"$.annotations.{key}.a_bbox: box lies outside the image (0..1240, 0..1754)"]
    doc = ds2()
    doc["annotations"][key]["cat_id"] = ["999"]
    assert refusal(json.dumps(doc)) == [f"$.annotations.{key}.cat_id: names no DeepScoresV2 class of the file "
                                        "(got list)"]
    doc = ds2()
    doc["images"][0]["width"] = 620
    assert refusal(json.dumps(doc)) == ["$.images[0]: the file describes 'c1.original.png' as a 620×1754 image; "
                                        "that image is 1240×1754"]
    photo = refusal(json.dumps(ds2("photo")))
    assert photo == ["$.images[0]: 'c1.photo.png' is the pair's photo; DeepScoresV2 symbols are imported for the "
                     "original rendering only (the photo's are moved from it)"]


# An excerpt of the sample DeepScoresV2 ships with its loader (obb_anns, sample/deepscores_v2_sample.json):
# five of the page's annotations as the dataset writes them, each with its deepscores and muscima++ class.
DS2_SAMPLE = {
    "info": {"description": "DeepScores sample in the OBB format", "version": "2.0", "year": 2020,
             "contributor": "Lukas Tuggener, Ismail Elezi, Yvan Satyawan, Jürgen Schmidhuber, Marcello Pelillo, "
                            "Thilo Stadelmann", "date_created": "2020-06-23",
             "url": "https://tuggeluk.github.io/deepscores/"},
    "annotation_sets": ["deepscores", "muscima++"],
    "categories": {"2": {"name": "legerLine", "annotation_set": "deepscores", "color": 2},
                   "138": {"name": "legerLine", "annotation_set": "muscima++", "color": 2},
                   "25": {"name": "noteheadBlackOnLine", "annotation_set": "deepscores", "color": 35},
                   "27": {"name": "noteheadBlackInSpace", "annotation_set": "deepscores", "color": 37},
                   "157": {"name": "noteheadFullSmall", "annotation_set": "muscima++", "color": 38},
                   "42": {"name": "stem", "annotation_set": "deepscores", "color": 52},
                   "161": {"name": "stem", "annotation_set": "muscima++", "color": 52},
                   "135": {"name": "staff", "annotation_set": "deepscores", "color": 165},
                   "208": {"name": "staff", "annotation_set": "muscima++", "color": 165}},
    "images": [{"id": 410, "filename": "lg-5230237-aug-emmentaler--page-2.png", "width": 2707, "height": 3828,
                "ann_ids": ["41408", "41409", "41426", "41427", "41430"]}],
    "annotations": {
        "41408": {"a_bbox": [128.9027381, 208.62534924, 2578.09496095, 302.2144752], "o_bbox": [], "area": 24251,
                  "cat_id": ["135", "208"], "img_id": "410", "comments": ""},
        "41409": {"a_bbox": [2098.52576451, 1109.5980139199999, 2145.69716148, 1114.1524534799998], "o_bbox": [],
                  "cat_id": ["2", "138"], "area": 135, "img_id": "410", "comments": ""},
        "41426": {"a_bbox": [1825.39070973, 769.31664348, 1828.34290979, 844.97097696], "o_bbox": [],
                  "cat_id": ["42", "161"], "area": 173, "img_id": "410", "comments": ""},
        "41427": {"a_bbox": [1915.24694894, 813.97095252, 1945.02015914, 838.80931332], "o_bbox": [],
                  "cat_id": ["25", "157"], "area": 536, "img_id": "410", "comments": ""},
        "41430": {"a_bbox": [1972.11971958, 1567.6927833599998, 2001.89295685, 1592.5311824399998], "o_bbox": [],
                  "cat_id": ["27", "157"], "area": 538, "img_id": "410", "comments": ""}}}


def test_the_datasets_own_file_reads_with_its_class_ids():
    name = "lg-5230237-aug-emmentaler--page-2.png"
    parts = read_json_file(json.dumps(DS2_SAMPLE).encode())
    back = assemble([parts[name], None], [AssetDims(2707, 3828, "original"), AssetDims(1600, 1200, "photo")])
    assert [s["class"] for s in back.meta["symbols"]] == ["legerLine", "stem", "noteheadBlackOnLine",
                                                         "noteheadBlackInSpace"]
    assert back.meta["staves"] == [[128.9027381, 208.62534924, 2578.09496095, 302.2144752]]
    assert len(back.meta["staff_lines"]) == 5
    # the dataset's ids are ours
    assert all(DS2_ID[cat["name"]] == int(key) for key, cat in DS2_SAMPLE["categories"].items()
               if cat["annotation_set"] == "deepscores")
