"""Annotation files refused for what the formats themselves say: a COCO file made for another image size,
RLE masks (CVAT's iscrowd), PAGE files the 2019 schema refuses; and the omr kind's own importers."""
from __future__ import annotations

import json

import pytest

from webapp.labeling.models import Prediction, WorkItem
from webapp.labeling.selectors import item_detail, item_fresh_prediction
from webapp.labeling.services.ingest import items_ingest

pytestmark = pytest.mark.django_db
SIZE = (64, 48)


def coco_doc(images: dict[str, list[dict]], categories=("axial_scratch", "bubble", "article"),
             size=SIZE) -> dict:
    cats = [{"id": i + 1, "name": c} for i, c in enumerate(categories)]
    doc = {"images": [], "annotations": [], "categories": cats}
    for n, (name, anns) in enumerate(images.items(), start=1):
        doc["images"].append({"id": n, "file_name": name, "width": size[0], "height": size[1]})
        for a in anns:
            doc["annotations"].append({"id": len(doc["annotations"]) + 1, "image_id": n,
                                       "category_id": categories.index(a.pop("cat")) + 1, "iscrowd": 0, **a})
    return doc


def proposal(item: WorkItem) -> Prediction | None:
    return item_fresh_prediction(item_detail(item_id=item.pk))


def outcomes(report) -> dict[str, dict]:
    return {a["name"]: a for a in report.annotations}


def test_a_coco_file_made_for_another_image_size_is_refused_naming_the_image_and_both_sizes(project, images):
    half = coco_doc({"s_2.png": [{"cat": "bubble", "bbox": [5, 5, 10, 10]}]}, size=(32, 24))
    files = [("s_1.png", images.image(seed=1)), ("s_2.png", images.image(seed=2)),
             ("half.json", json.dumps(half).encode())]
    report = items_ingest(project=project, files=files, grouping="series", user=None)
    refused = outcomes(report)["half.json"]
    assert refused["status"] == "refused"
    assert "$.images[0]: the file describes 's_2.png' as a 32×24 image; that image is 64×48" in refused["reason"]
    assert proposal(WorkItem.objects.get(project=project)) is None          # nothing of it stored
    same = coco_doc({"s_2.png": [{"cat": "bubble", "bbox": [5, 5, 10, 10]}]})
    report = items_ingest(project=project, files=files[:2] + [("same.json", json.dumps(same).encode())],
                          grouping="series", user=None)
    assert outcomes(report)["same.json"]["status"] == "imported"


def test_an_articles_coco_file_of_another_size_and_a_bad_size_are_refused(make_project, images):
    articles = make_project("articles")
    polygon = [[0, 0], [30, 0], [30, 20], [0, 20]]
    big = coco_doc({"p.png": [{"cat": "article", "bbox": [0, 0, 30, 20], "segmentation": [sum(polygon, [])]}]},
                   size=(128, 96))
    bad = coco_doc({"p.png": []})
    bad["images"][0]["width"] = "64"
    files = [("p.png", images.image(seed=1)), ("big.json", json.dumps(big).encode()),
             ("bad.json", json.dumps(bad).encode())]
    by_name = outcomes(items_ingest(project=articles, files=files, grouping="single", user=None))
    assert "'p.png' as a 128×96 image; that image is 64×48" in by_name["big.json"]["reason"]
    assert ("$.images[0].width: must be the image's width in pixels, a positive whole number (got '64')"
            in by_name["bad.json"]["reason"])


def test_a_cvat_mask_imports_as_the_defects_polygon(project, images):
    # a 10×6 block, its top-right pixel off, as CVAT writes it: iscrowd 1, uncompressed counts over the
    # column-major pixels of the 64×48 image, 0s first
    mask = [[20 <= x < 30 and 10 <= y < 16 and (x, y) != (29, 10) for x in range(SIZE[0])] for y in range(SIZE[1])]
    flat = [mask[y][x] for x in range(SIZE[0]) for y in range(SIZE[1])]
    counts, run, value = [], 0, False
    for pixel in flat:
        if pixel != value:
            counts.append(run)
            run, value = 0, pixel
        run += 1
    counts.append(run)
    doc = coco_doc({"m_1.png": [{"cat": "bubble", "bbox": [20, 10, 10, 6],
                                 "segmentation": {"size": [SIZE[1], SIZE[0]], "counts": counts}}]})
    doc["annotations"][0]["iscrowd"] = 1
    report = items_ingest(project=project, files=[("m_1.png", images.image(seed=1)),
                                                  ("cvat.json", json.dumps(doc).encode())],
                          grouping="series", user=None)
    assert outcomes(report)["cvat.json"]["status"] == "imported"
    (defect,) = proposal(WorkItem.objects.get(project=project)).payload["shots"][0]["defects"]
    assert defect["type"] == "bubble" and defect["box"] == [20, 10, 30, 16]
    assert defect["polygon"] == [[20, 10], [29, 10], [29, 11], [30, 11], [30, 16], [20, 16]]


def test_a_page_file_the_2019_schema_refuses_is_refused_with_its_line(make_project, images):
    from formats.articles.pagexml import to_page_xml

    articles = make_project("articles")
    page = {"page_type": "article", "cuts": [],
            "articles": [{"id": "lead", "polygon": [[0, 0], [64, 0], [64, 20], [0, 20]]}]}
    xml = to_page_xml(page, *SIZE, "p1.png").replace('<TextRegion id="lead"', '<TextRegion type="sidebar"')
    files = [("p1.png", images.image(seed=1)), ("p1.xml", xml.encode())]
    refused = outcomes(items_ingest(project=articles, files=files, grouping="single", user=None))["p1.xml"]
    line = next(n for n, text in enumerate(xml.splitlines(), start=1) if "sidebar" in text)
    assert refused["status"] == "refused"
    assert f"/PcGts/Page/TextRegion (line {line}): TextRegion needs the attribute id" in refused["reason"]
    assert f"/PcGts/Page/TextRegion/@type (line {line}): 'sidebar' is not one of" in refused["reason"]
    assert proposal(WorkItem.objects.get(project=articles)) is None


def omr_pairs(images) -> list[tuple[str, bytes]]:
    return [(f"p{n}.{role}.png", images.image(seed=10 * n + k)) for n in (1, 2)
            for k, role in enumerate(("original", "photo"))]


def test_omr_alignments_and_deepscores_files_import_as_proposals_and_the_originals_symbols(make_project, images):
    omr = make_project("omr")
    shift = [[1, 0, 2], [0, 1, -1], [0, 0, 1]]
    alignments = {"alignments": [
        {"item": 7, "original": "p1.original.png", "photo": "p1.photo.png", "status": "accepted",
         "homography": shift, "point_pairs": [], "reasons": []},
        {"item": 8, "original": "p2.original.png", "photo": "p2.photo.png", "status": "rejected",
         "homography": None, "point_pairs": [], "reasons": ["wrong page"]}]}
    ds2 = {"info": {}, "annotation_sets": ["deepscores"],
           "categories": {"42": {"name": "stem", "annotation_set": "deepscores"},
                          "135": {"name": "staff", "annotation_set": "deepscores"}},
           "images": [{"id": 1, "filename": "p1.original.png", "width": SIZE[0], "height": SIZE[1],
                       "ann_ids": ["1", "2"]}],
           "annotations": {"1": {"a_bbox": [10, 4, 11, 30], "cat_id": ["42"]},
                           "2": {"a_bbox": [2, 10, 60, 26], "cat_id": ["135"]}}}
    files = omr_pairs(images) + [("alignments.json", json.dumps(alignments).encode()),
                                 ("symbols.json", json.dumps(ds2).encode())]
    report = items_ingest(project=omr, files=files, grouping="pairs", user=None)
    by_name = outcomes(report)
    assert by_name["alignments.json"]["status"] == "imported" and by_name["alignments.json"]["items"] == 2
    assert by_name["symbols.json"]["status"] == "imported" and by_name["symbols.json"]["items"] == 1
    p1, p2 = (WorkItem.objects.get(project=omr, external_id=f"p{n}") for n in (1, 2))
    assert proposal(p1).source == "import" and proposal(p1).payload["homography"] == shift
    assert proposal(p2).payload == {"status": "rejected", "homography": None, "point_pairs": [],
                                    "reasons": ["wrong page"]}
    p1.refresh_from_db()
    assert p1.meta["symbols"] == [{"class": "stem", "bbox": [10, 4, 11, 30]}]
    assert p1.meta["staves"] == [[2, 10, 60, 26]] and p1.meta["staff_lines"] == [10, 14, 18, 22, 26]


def test_bad_omr_files_are_refused_whole(make_project, images):
    omr = make_project("omr")
    crossed = {"alignments": [
        {"original": "p1.original.png", "photo": "p2.photo.png", "status": "accepted",
         "homography": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]},
        {"original": "p2.original.png", "photo": "p1.photo.png", "status": "rejected", "reasons": ["blur"]}]}
    photo_symbols = {"info": {}, "annotation_sets": ["deepscores"],
                     "categories": {"42": {"name": "stem", "annotation_set": "deepscores"}},
                     "images": [{"id": 1, "filename": "p1.photo.png", "width": SIZE[0], "height": SIZE[1],
                                 "ann_ids": ["1"]}],
                     "annotations": {"1": {"a_bbox": [10, 4, 11, 30], "cat_id": ["42"]}}}
    outside = json.loads(json.dumps(photo_symbols))
    outside["images"][0]["filename"] = "p2.original.png"
    outside["annotations"]["1"]["a_bbox"] = [10, 4, 11, 300]
    files = omr_pairs(images) + [("crossed.json", json.dumps(crossed).encode()),
                                 ("photo.json", json.dumps(photo_symbols).encode()),
                                 ("outside.json", json.dumps(outside).encode()),
                                 ("other.json", b'{"shapes": []}')]
    by_name = outcomes(items_ingest(project=omr, files=files, grouping="pairs", user=None))
    assert all(o["status"] == "refused" for o in by_name.values())
    assert "$.alignments[0]: must name both images of one uploaded pair" in by_name["crossed.json"]["reason"]
    assert "'p1.photo.png' is the pair's photo" in by_name["photo.json"]["reason"]
    assert "$.annotations.1.a_bbox: box lies outside the image (0..64, 0..48)" in by_name["outside.json"]["reason"]
    assert "neither an alignments file" in by_name["other.json"]["reason"]
    assert not Prediction.objects.filter(item__project=omr).exists()
    assert all(item.meta == {} for item in WorkItem.objects.filter(project=omr))


def test_a_shape_the_validator_refuses_is_named_by_the_files_element(project, make_project, images):
    outside = coco_doc({"o_1.png": [{"cat": "bubble", "bbox": [1, 1, 2, 2]},
                                    {"cat": "bubble", "bbox": [60, 40, 30, 30]}]})
    report = items_ingest(project=project, files=[("o_1.png", images.image(seed=1)),
                                                  ("outside.json", json.dumps(outside).encode())],
                          grouping="series", user=None)
    assert ("$.annotations[1], as $.shots[0].defects[1].box: box lies outside the image"
            in outcomes(report)["outside.json"]["reason"])
    from formats.articles.pagexml import to_page_xml

    articles = make_project("articles")
    polygon = [[0, 0], [30, 0], [30, 20], [0, 20]]
    far = [[0, 20], [64, 20], [64, 90], [0, 90]]
    by_order = coco_doc({"a.png": [
        {"cat": "article", "bbox": [0, 20, 64, 70], "segmentation": [sum(far, [])], "attributes": {"order": 1}},
        {"cat": "article", "bbox": [0, 0, 30, 20], "segmentation": [sum(polygon, [])], "attributes": {"order": 0}}]})
    page = to_page_xml({"page_type": "article", "cuts": [], "articles": [{"id": "lead", "polygon": polygon},
                                                                         {"id": "far", "polygon": far}]},
                       64, 48, "b.png")
    files = [("a.png", images.image(seed=1)), ("b.png", images.image(seed=2)),
             ("order.json", json.dumps(by_order).encode()), ("b.xml", page.encode())]
    by_name = outcomes(items_ingest(project=articles, files=files, grouping="single", user=None))
    # the second article in reading order is the file's first annotation
    assert ("$.annotations[0], as $.articles[1].polygon[2]: point (64, 90) lies outside"
            in by_name["order.json"]["reason"])
    assert ("/PcGts/Page/TextRegion[@id='far'], as $.articles[1].polygon[2]: point (64, 90) lies outside"
            in by_name["b.xml"]["reason"])
