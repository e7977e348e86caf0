"""Exports over the API, as a user downloads them: streamed, accepted by the field's tools, and read back
by the project's own readers equal to what was accepted."""
import io
import json
import zipfile

from asgiref.sync import async_to_sync
from django.test import AsyncClient
from lxml import etree
from ocrd_validators.xsd_page_validator import XsdPageValidator
from rest_framework.authtoken.models import Token

from formats.articles.pagexml import from_page_xml
from formats.catheter.coco import from_coco
from formats.omr.deepscores import from_deepscores
from webapp.labeling.models import WorkItem
from webapp.labeling.services import revision_submit

SCRATCH = {"verdict": "defect", "shots": [
    {"defects": [{"type": "axial_scratch", "box": [100, 50, 300, 90], "polygon": [[100, 50], [300, 60], [290, 90]],
                  "id": "s1"}]},
    {"defects": [{"type": "bubble", "box": [400, 400, 420, 420], "point": [410, 410]}]}]}
PAGE = {"page_type": "article", "cuts": [{"x0": 0, "y0": 300, "x1": 800, "y1": 300}],
        "articles": [{"id": "lead", "polygon": [[0, 0], [800, 0], [800, 300], [0, 300]]},
                     {"id": "a2", "polygon": [[0, 300], [800, 300], [800, 600], [0, 600]]}]}


def accept(user, item, annotation):
    # Seeded in a chosen order (image ids must not follow it), so without taking leases from the queue.
    revision_submit(item_id=item.pk, user=user, annotation=annotation, base_revision=None, require_lease=False)


def download(api, project, fmt) -> bytes:
    response = api.get(f"/api/v1/projects/{project.pk}/export/?format={fmt}")
    assert response.status_code == 200 and response.streaming
    return b"".join(response.streaming_content)


def image_ids(doc: dict) -> dict[str, int]:
    return {i["file_name"]: i["id"] for i in doc["images"]}


def test_catheter_coco_reads_back_with_stable_image_ids(make_project, make_item, operator, api_for):
    project = make_project(review_required=False)
    first, second = make_item(project, n_assets=2), make_item(project, n_assets=2)
    api = api_for(operator)
    accept(operator, second, SCRATCH)
    before = json.loads(download(api, project, "coco"))
    accept(operator, first, {"verdict": "ok", "shots": [{"defects": []}, {"defects": []}]})
    after = json.loads(download(api, project, "coco"))
    assert image_ids(before).items() < image_ids(after).items()    # accepting an earlier item renumbers nothing
    assert from_coco(after)[second.pk] == SCRATCH


def test_articles_page_xml_zip_is_valid_and_reads_back(make_project, make_item, operator, api_for):
    project = make_project("articles", review_required=False)
    item = make_item(project)
    api = api_for(operator)
    accept(operator, item, PAGE)
    with zipfile.ZipFile(io.BytesIO(download(api, project, "pagexml"))) as zf:
        (name,) = zf.namelist()
        xml = zf.read(name)
    assert XsdPageValidator.validate(etree.ElementTree(etree.fromstring(xml))).is_valid
    back, width, height = from_page_xml(xml)
    assert (width, height) == (800, 600) and back == PAGE


def test_omr_exports_the_photo_side_symbols(make_project, make_item, operator, api_for):
    project = make_project("omr", review_required=False)
    item = make_item(project)
    WorkItem.objects.filter(pk=item.pk).update(meta={"symbols": [{"class": "stem", "bbox": [10, 10, 12, 60]}]})
    api = api_for(operator)
    accept(operator, item, {"status": "accepted", "homography": [[1, 0, 5], [0, 1, 5], [0, 0, 1]]})
    coco = json.loads(download(api, project, "coco"))
    assert coco["annotations"][0]["bbox"] == [15, 15, 2, 50] and len(coco["categories"]) == 136
    (boxes,) = from_deepscores(json.loads(download(api, project, "deepscores"))).values()
    assert boxes == [("stem", [15.0, 15.0, 17.0, 65.0])]


def test_under_asgi_the_export_streams_chunk_by_chunk(make_project, make_item, operator, transactional_db):
    """The ASGI server gets an async iterator (a sync one Django would read whole before sending)."""
    project = make_project(review_required=False)
    items = [make_item(project, n_assets=2) for _ in range(3)]
    for item in items:
        revision_submit(item_id=item.pk, user=operator, annotation=SCRATCH, base_revision=None, require_lease=False)
    token, _ = Token.objects.get_or_create(user=operator)

    async def fetch():
        response = await AsyncClient().get(f"/api/v1/projects/{project.pk}/export/?format=coco",
                                           headers={"Authorization": f"Token {token.key}"})
        assert response.status_code == 200 and response.is_async
        return [chunk async for chunk in response.streaming_content]

    chunks = async_to_sync(fetch)()
    assert len(chunks) > 2
    assert set(from_coco(json.loads(b"".join(chunks)))) == {i.pk for i in items}
