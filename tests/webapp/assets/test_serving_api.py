"""Serving views (login, caching, fallbacks) and the asset API end to end."""
from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from webapp.assets.models import Asset
from webapp.assets.services import asset_build_derivatives, asset_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset(images, project):
    """An image shown by an item of the team's project (whose members may see it)."""
    from webapp.labeling.services import item_create

    asset, _ = asset_ingest(data=images.image("PNG", (300, 200), seed=11), name="page.png")
    item_create(project=project, asset_ids=[asset.pk])
    return asset


@pytest.fixture
def signed_in(client, operator):
    client.force_login(operator)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_serving_needs_login(client, asset):
    for name, kwargs in [("asset-original", {}), ("asset-working", {}), ("asset-dzi", {}),
                         ("asset-tile", {"level": 0, "col": 0, "row": 0})]:
        response = client.get(reverse(name, kwargs={"asset_id": asset.pk, **kwargs}))
        assert response.status_code == 302 and "/login/" in response["Location"], name


def test_original_is_immutable_and_revalidates(signed_in, asset, media_root):
    response = signed_in.get(reverse("asset-original", args=[asset.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert body(response) == (media_root / asset.original).read_bytes()
    assert "immutable" in response["Cache-Control"] and response["ETag"] == f'"{asset.sha256}"'
    again = signed_in.get(reverse("asset-original", args=[asset.pk]), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_working_copy_falls_back_to_the_original_until_ready(signed_in, asset, settings):
    url = reverse("asset-working", args=[asset.pk])
    pending = signed_in.get(url)
    assert pending["Content-Type"] == "image/png" and "no-cache" in pending["Cache-Control"]
    assert signed_in.get(reverse("asset-dzi", args=[asset.pk])).status_code == 404
    settings.LOUPE_WORKING_COPY_LONG_SIDE = 100
    asset_build_derivatives(asset_id=asset.pk)
    ready = signed_in.get(url)
    assert ready.status_code == 200 and ready["Content-Type"] == "image/jpeg" and "max-age" in ready["Cache-Control"]


def test_dzi_and_tiles(signed_in, asset):
    asset_build_derivatives(asset_id=asset.pk)
    dzi = signed_in.get(reverse("asset-dzi", args=[asset.pk]))
    assert dzi.status_code == 200 and b'Width="300"' in body(dzi)
    tile = signed_in.get(reverse("asset-tile", args=[asset.pk, 9, 0, 0]))
    assert tile.status_code == 200 and tile["Content-Type"] == "image/jpeg"
    assert signed_in.get(reverse("asset-tile", args=[asset.pk, 9, 99, 0])).status_code == 404
    base = reverse("asset-dzi", args=[asset.pk]).replace(".dzi", "_files")
    for sneaky in ["/../../../../etc/passwd", "/9/..%2F..%2Fworking.jpg", "/9/0_0.jpeg/../../tiles.dzi"]:
        assert signed_in.get(base + sneaky).status_code == 404, sneaky
    assert signed_in.get(reverse("asset-original", args=[10**9])).status_code == 404


@pytest.fixture
def api(operator, project):  # an operator of a project may upload
    client = APIClient()
    client.force_authenticate(operator)
    return client


def test_api_upload_files_and_zips(api, images):
    url = reverse("api-asset-upload")
    files = [("one.png", images.image(seed=50)), ("batch.zip", images.zip({"z1.jpg": images.image("JPEG", seed=51),
                                                                           "bad.txt": b"plain text " * 9}))]
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(url, {"files": [SimpleUploadedFile(n, d) for n, d in files]}, format="multipart")
    assert response.status_code == 207, response.json()
    report = response.json()
    assert report["counts"] == {"created": 2, "duplicate": 0, "refused": 1}
    assert [(r["name"], r["status"]) for r in report["results"]] == [
        ("one.png", "created"), ("z1.jpg", "created"), ("bad.txt", "refused")]
    assert report["results"][1]["archive"] == "batch.zip" and report["detail"].startswith("bad.txt: ")
    created = report["results"][0]["asset"]
    detail = api.get(reverse("api-asset-detail", args=[created["id"]])).json()
    assert detail["width"] == 64 and detail["urls"]["original"] == reverse("asset-original", args=[created["id"]])
    again = api.post(url, {"files": [SimpleUploadedFile("again.png", files[0][1])]}, format="multipart")
    assert again.status_code == 200 and again.json()["results"][0]["status"] == "duplicate"


def test_api_errors(api, images, settings, make_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("api-asset-upload")
    refused = api.post(url, {"files": [SimpleUploadedFile("scan.pdf", b"%PDF-1.4 ...")]}, format="multipart")
    assert refused.status_code == 400 and refused.json()["detail"].startswith("scan.pdf: a PDF document")
    assert api.post(url, {}, format="multipart").status_code == 400
    settings.LOUPE_MAX_UPLOAD_BYTES = 50
    big = api.post(url, {"files": [SimpleUploadedFile("big.png", images.image(seed=60))]}, format="multipart")
    assert big.status_code == 413 and "big.png: " in big.json()["detail"]
    assert api.get(reverse("api-asset-detail", args=[10**9])).status_code == 404
    assert APIClient().get(reverse("api-asset-detail", args=[1])).status_code in (401, 403)
    from django.contrib.auth import get_user_model

    reviewer = APIClient()  # signed in, but with no role
    reviewer.force_authenticate(get_user_model().objects.create_user("no-role", password="x-password-1"))
    assert reviewer.post(url, {"files": [SimpleUploadedFile("r.png", images.image(seed=61))]},
                         format="multipart").status_code == 403
    assert not Asset.objects.exists()


def test_schema_describes_the_upload(api):
    schema = api.get(reverse("api-schema"), {"format": "json"}).json()
    post = schema["paths"]["/api/v1/assets/"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"201", "207", "400", "413"} <= set(post["responses"])
