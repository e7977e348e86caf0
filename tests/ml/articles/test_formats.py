import xml.etree.ElementTree as ET

from ml.articles import synth
from ml.articles.formats import NS, from_page_xml, to_coco, to_page_xml


def test_page_xml_round_trip():
    gt = synth.layout_page("daily-courier", 3).ground_truth()
    ann = gt["annotation"]
    xml = to_page_xml(ann, gt["width"], gt["height"], "p.png")
    root = ET.fromstring(xml)
    assert root.tag == f"{{{NS}}}PcGts"
    page = root.find(f"{{{NS}}}Page")
    assert page.get("imageWidth") == "2480" and page.get("type") == "content"
    assert len(page.findall(f"{{{NS}}}TextRegion")) == len(ann["articles"])
    assert len(page.findall(f"{{{NS}}}SeparatorRegion")) == len(ann["cuts"])
    back, w, h = from_page_xml(xml)
    assert (w, h) == (2480, 3508)
    assert back == ann


def test_page_xml_keeps_scores_page_type_and_order():
    ann = {"page_type": "tv", "cuts": [], "articles": []}
    back, _, _ = from_page_xml(to_page_xml(ann, 100, 200))
    assert back == ann
    ann = {"page_type": "article", "cuts": [{"x0": 5, "y0": 1, "x1": 5, "y1": 90, "score": 0.8}],
           "articles": [{"id": "a2", "polygon": [[0, 0], [4, 0], [4, 9], [0, 9]], "score": 0.5},
                        {"id": "a1", "polygon": [[6, 0], [9, 0], [9, 9], [6, 9]]}]}
    back, _, _ = from_page_xml(to_page_xml(ann, 10, 100))
    assert [a["id"] for a in back["articles"]] == ["a2", "a1"]
    assert back["articles"][0]["score"] == 0.5 and back["cuts"][0]["score"] == 0.8


def test_coco_polygons():
    gt = synth.layout_page("weekly-gazette", 4).ground_truth()
    coco = to_coco([{"file_name": "p.png", "width": gt["width"], "height": gt["height"],
                     "annotation": gt["annotation"]}])
    assert coco["categories"][0]["name"] == "article"
    assert len(coco["annotations"]) == len(gt["annotation"]["articles"])
    a = coco["annotations"][0]
    assert len(a["segmentation"][0]) == 2 * len(gt["annotation"]["articles"][0]["polygon"])
    x, y, w, h = a["bbox"]
    assert w > 0 and h > 0 and 0 < a["area"] <= w * h
