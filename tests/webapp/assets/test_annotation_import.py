"""Existing annotations uploaded with the images: COCO and PAGE XML become proposals (source: import),
refused per file with the reason; by upload API and by import_assets."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from formats.articles.pagexml import to_page_xml
from webapp.labeling.models import ItemState, Prediction, WorkItem
from webapp.labeling.selectors import item_detail, item_fresh_prediction
from webapp.labeling.services import revision_submit
from webapp.labeling.services.ingest import items_ingest

pytestmark = pytest.mark.django_db
SIZE = (64, 48)


def coco(images: dict[str, list[dict]], categories=("axial_scratch", "radial_scratch", "inclusion", "bubble")) -> bytes:
    cats = [{"id": i + 10, "name": c} for i, c in enumerate(categories)]
    cat_id = {c["name"]: c["id"] for c in cats}
    doc = {"images": [], "annotations": [], "categories": cats}
    for n, (name, anns) in enumerate(images.items(), start=1):
        doc["images"].append({"id": n, "file_name": name, "width": SIZE[0], "height": SIZE[1]})
        for a in anns:
            doc["annotations"].append({"id": len(doc["annotations"]) + 1, "image_id": n, "iscrowd": 0,
                                       "category_id": cat_id[a["cat"]], "bbox": a["bbox"],
                                       **({"segmentation": [a["seg"]]} if "seg" in a else {})})
    return json.dumps(doc).encode()


def proposal(item: WorkItem) -> Prediction | None:
    return item_fresh_prediction(item_detail(item_id=item.pk))


def test_coco_beside_a_series_becomes_the_proposal_and_counts_as_a_correction(project, images, make_user):
    files = [("b1_1.png", images.image(seed=1)), ("b1_2.png", images.image(seed=2)),
             ("b2_1.png", images.image(seed=3)),
             ("labels/instances.json", coco({"b1_2.png": [{"cat": "bubble", "bbox": [10, 10, 5, 4]},
                                                          {"cat": "axial_scratch", "bbox": [20, 5, 30, 6],
                                                           "seg": [20, 5, 50, 6, 49, 11, 21, 10]}],
                                             "b2_1.png": [], "elsewhere.png": []}))]
    report = items_ingest(project=project, files=files, grouping="series", user=None)
    assert [r.name for r in report.results] == ["b1_1.png", "b1_2.png", "b2_1.png"]   # the JSON is no image
    (outcome,) = report.annotations
    assert outcome["status"] == "imported" and outcome["items"] == 2 and "elsewhere.png" in outcome["reason"]
    b1 = WorkItem.objects.get(project=project, external_id="b1")
    p = proposal(b1)
    assert p.source == "import" and p.model_version is None
    assert p.payload["verdict"] == "defect" and p.payload["shots"][0] == {"defects": []}
    bubble, scratch = p.payload["shots"][1]["defects"]
    assert bubble == {"type": "bubble", "box": [10, 10, 15, 14]}
    assert scratch["polygon"] == [[20, 5], [50, 6], [49, 11], [21, 10]]
    assert WorkItem.objects.get(pk=b1.pk).state == ItemState.PREDICTED
    api = APIClient()
    api.force_authenticate(make_user("operator"))
    shown = api.get(f"/api/v1/items/{b1.pk}/").json()["prediction"]
    assert shown["source"] == "import" and shown["model_version"] is None
    # Accepting it with one change counts as a correction of the imported proposal.
    corrected = {**p.payload, "shots": [p.payload["shots"][0], {"defects": [scratch]}]}
    revision = revision_submit(item_id=b1.pk, user=make_user("operator"), annotation=corrected, base_revision=None,
                               from_prediction_id=p.pk, require_lease=False)
    assert revision.diff["against"] == {"prediction": p.pk} and revision.edit_count == 1
    # The same file again writes nothing new; an OK series' import is an empty proposal.
    again = items_ingest(project=project, files=files, grouping="series", user=None)
    assert again.annotations[0]["status"] == "imported"
    assert Prediction.objects.filter(item=b1, source="import").count() == 1
    assert proposal(WorkItem.objects.get(external_id="b2")).payload == {"verdict": "ok", "shots": [{"defects": []}]}


def test_bad_files_are_refused_whole_with_the_reason_and_the_good_ones_import(project, images):
    files = [("a_1.png", images.image(seed=1)), ("b_1.png", images.image(seed=2)),
             ("good.json", coco({"a_1.png": [{"cat": "bubble", "bbox": [1, 1, 5, 5]}]})),
             ("unknown-class.json", coco({"b_1.png": [{"cat": "crack", "bbox": [1, 1, 5, 5]}]},
                                         categories=("crack",))),
             ("outside.json", coco({"b_1.png": [{"cat": "bubble", "bbox": [60, 40, 30, 30]}]})),
             ("broken.json", b"{not json"), ("notes.xml", b"<notes/>")]
    report = items_ingest(project=project, files=files, grouping="series", user=None)
    by_name = {a["name"]: a for a in report.annotations}
    assert by_name["good.json"]["status"] == "imported"
    assert "'crack' is not a defect type" in by_name["unknown-class.json"]["reason"]
    assert "$.shots[0].defects[0].box" in by_name["outside.json"]["reason"]
    assert "not valid JSON" in by_name["broken.json"]["reason"]
    assert "imports no .xml" in by_name["notes.xml"]["reason"]
    assert all(by_name[n]["status"] == "refused" for n in ("unknown-class.json", "outside.json", "broken.json"))
    assert proposal(WorkItem.objects.get(external_id="b")) is None      # nothing of a bad file is stored


def test_page_xml_in_a_zip_by_the_upload_api(make_project, images, make_user):
    articles = make_project("articles")
    page = {"page_type": "article", "cuts": [{"x0": 0, "y0": 20, "x1": 64, "y1": 20}],
            "articles": [{"id": "lead", "polygon": [[0, 0], [64, 0], [64, 20], [0, 20]]},
                         {"id": "a2", "polygon": [[0, 20], [64, 20], [64, 48], [0, 48]]}]}
    zipped = images.zip({"pages/p1.png": images.image(seed=1), "pages/p1.xml": to_page_xml(page, *SIZE, "p1.png"),
                         "pages/p2.png": images.image(seed=2),
                         "pages/p2.xml": to_page_xml(page, 640, 480, "p2.png")})   # made for another size
    api = APIClient()
    api.force_authenticate(make_user("operator"))
    response = api.post(reverse("project-upload-api", args=[articles.pk]),
                        {"files": [SimpleUploadedFile("batch.zip", zipped)]}, format="multipart")
    assert response.status_code == 207, response.json()
    outcomes = {a["name"]: a for a in response.json()["annotations"]}
    assert outcomes["pages/p1.xml"]["status"] == "imported" and outcomes["pages/p1.xml"]["archive"] == "batch.zip"
    assert "640×480" in outcomes["pages/p2.xml"]["reason"]
    assert [r["name"] for r in response.json()["results"]] == ["pages/p1.png", "pages/p2.png"]
    p1 = WorkItem.objects.get(project=articles, external_id="pages/p1")
    assert proposal(p1).payload["articles"][0]["id"] == "lead" and len(proposal(p1).payload["cuts"]) == 1


def test_import_assets_reads_annotations_beside_the_images(project, images, tmp_path):
    (tmp_path / "s_1.png").write_bytes(images.image(seed=1))
    (tmp_path / "coco.json").write_bytes(coco({"s_1.png": [{"cat": "inclusion", "bbox": [2, 2, 4, 4]}]}))
    out = __import__("io").StringIO()
    call_command("import_assets", str(tmp_path), "--project", project.slug, stdout=out)
    assert "annotations coco.json: proposals for 1 items" in out.getvalue()
    assert proposal(WorkItem.objects.get(project=project)).payload["shots"][0]["defects"][0]["type"] == "inclusion"

