"""Asset files in an S3-compatible object store (the ``object_store`` fixture: a private bucket of a real
server process speaking the S3 protocol): uploads land in the bucket and nowhere on local disk, the tile
pyramid is published under a prefix of its own, and the browser gets every file through the app's own
permission checks."""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from webapp.assets.models import Asset
from webapp.assets.services import asset_build_derivatives, asset_ingest
from webapp.core import filestore

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def _local_files(root) -> list[str]:
    """Files a process keeps under its MEDIA_ROOT, less its cache and scratch folders."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and p.relative_to(root).parts[0] not in (".cache", "tmp"))


def test_object_store_upload_lands_in_the_bucket_only(object_store, operator, project, images, media_root):
    api = APIClient()
    api.force_authenticate(operator)
    data = images.image("PNG", (300, 200), seed=21)
    response = api.post(reverse("api-asset-upload"), {"files": [SimpleUploadedFile("page.png", data)]},
                        format="multipart")
    assert response.status_code == 201, response.content
    asset = Asset.objects.get(pk=response.json()["results"][0]["asset"]["id"])
    assert object_store.keys("assets/") == [asset.original]
    assert object_store.client.get_object(Bucket=object_store.bucket, Key=asset.original)["Body"].read() == data
    assert _local_files(media_root) == [] and not list((media_root / "tmp").iterdir())
    # no grant to anyone but the owner: the bucket is private, the app serves the files
    grants = object_store.client.get_object_acl(Bucket=object_store.bucket, Key=asset.original)["Grants"]
    assert all(g["Grantee"].get("Type") == "CanonicalUser" for g in grants), grants


@pytest.fixture
def asset(images, project, object_store):
    from webapp.labeling.services import item_create

    asset, _ = asset_ingest(data=images.image("PNG", (600, 400), seed=22), name="page.png")
    item_create(project=project, asset_ids=[asset.pk])
    return asset


def test_object_store_pyramid_is_published_under_its_own_prefix(asset, object_store, client, operator,
                                                                 make_user, media_root):
    def stored(key: str) -> bytes:
        return object_store.client.get_object(Bucket=object_store.bucket, Key=key)["Body"].read()

    assert asset_build_derivatives(asset_id=asset.pk) == Asset.Derivatives.READY
    asset.refresh_from_db()
    prefix = asset.dzi.rsplit("/", 1)[0]
    assert prefix.startswith(f"derived/{asset.sha256}/") and asset.working_copy.startswith(prefix + "/")
    # four objects: the working copy, the descriptor, and the tiles packed into one with their index
    assert object_store.keys(prefix + "/") == sorted([asset.working_copy, asset.dzi, f"{prefix}/tiles.index.json",
                                                      f"{prefix}/tiles.pack"])
    index = json.loads(stored(f"{prefix}/tiles.index.json"))
    pack = stored(f"{prefix}/tiles.pack")
    assert len(index) >= 11 and sum(length for _, length in index.values()) == len(pack)
    assert _local_files(media_root) == []   # built in a scratch folder, removed once uploaded

    client.force_login(operator)
    dzi = client.get(reverse("asset-dzi", args=[asset.pk]))
    assert dzi.status_code == 200 and b'Width="600"' in body(dzi)
    tile = client.get(reverse("asset-tile", args=[asset.pk, 10, 0, 0]))
    offset, length = index["10/0_0"]
    assert tile.status_code == 200 and body(tile) == pack[offset:offset + length]
    assert Image.open(io.BytesIO(pack[offset:offset + length])).format == "JPEG"
    assert client.get(reverse("asset-tile", args=[asset.pk, 10, 99, 0])).status_code == 404
    original = client.get(reverse("asset-original", args=[asset.pk]))
    assert original.status_code == 200 and body(original)[:8] == b"\x89PNG\r\n\x1a\n"
    again = client.get(reverse("asset-tile", args=[asset.pk, 10, 0, 0]), HTTP_IF_NONE_MATCH=tile["ETag"])
    assert again.status_code == 304
    # the same permission checks as on local disk: an outsider sees nothing, a visitor is sent to log in
    client.force_login(make_user("operator", member=False))
    assert client.get(reverse("asset-tile", args=[asset.pk, 10, 0, 0])).status_code in (403, 404)
    client.logout()
    assert client.get(reverse("asset-original", args=[asset.pk])).status_code == 302

    # a rebuild goes under a new prefix: the row switches to it only once it is complete
    assert asset_build_derivatives(asset_id=asset.pk, force=True) == Asset.Derivatives.READY
    rebuilt = Asset.objects.get(pk=asset.pk)
    assert rebuilt.dzi != asset.dzi and filestore.exists(rebuilt.dzi)


def test_object_store_missing_original_fails_the_derivatives_with_a_reason(asset, object_store):
    object_store.client.delete_object(Bucket=object_store.bucket, Key=asset.original)
    assert asset_build_derivatives(asset_id=asset.pk) == Asset.Derivatives.FAILED
    assert asset.original in Asset.objects.get(pk=asset.pk).derivatives_error


def test_object_store_duplicate_upload_heals_a_lost_original(asset, object_store, images):
    object_store.client.delete_object(Bucket=object_store.bucket, Key=asset.original)
    again, created = asset_ingest(data=images.image("PNG", (600, 400), seed=22), name="page.png")
    assert again.pk == asset.pk and not created and object_store.keys("assets/") == [asset.original]
