"""De-duplication shares stored bytes, never visibility: the same file uploaded into two projects (or by two
users outside any project) makes one asset record per project (per uploader), one file on disk."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from webapp.accounts.services import project_member_add
from webapp.assets.models import Asset
from webapp.assets.services import asset_build_derivatives

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_teams(make_project, make_user, api_for):
    """Project A with its operator, project B with its own; neither is a member of the other's project."""
    teams = {}
    for label in ("a", "b"):
        project = make_project("catheter", members=False, name=f"Line {label}")
        user = make_user("operator", member=False)
        project_member_add(project_id=project.pk, user=user, role="operator")
        teams[label] = (project, user, api_for(user))
    return teams


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(api, project, name: str, data: bytes) -> dict:
    response = api.post(reverse("project-upload-api", args=[project.pk]),
                        {"files": [SimpleUploadedFile(name, data)], "grouping": "single"}, format="multipart")
    assert response.status_code in (200, 201), response.json()
    return response.json()["results"][0]


def _asset_urls(asset_id: int) -> list[str]:
    return [reverse("api-asset-detail", args=[asset_id]), reverse("asset-original", args=[asset_id]),
            reverse("asset-working", args=[asset_id]), reverse("asset-dzi", args=[asset_id]),
            reverse("asset-tile", kwargs={"asset_id": asset_id, "level": 0, "col": 0, "row": 0})]


def test_a_copy_uploaded_into_another_project_is_a_new_asset_of_that_project(two_teams, images, media_root):
    (project_a, user_a, api_a), (project_b, user_b, api_b) = two_teams["a"], two_teams["b"]
    data = images.image("PNG", (300, 200), seed=41)
    first = _upload(api_a, project_a, "secret-line-a.png", data)
    asset_build_derivatives(asset_id=first["asset"]["id"])

    copy = _upload(api_b, project_b, "mine.png", data)
    assert copy["status"] == "created", "B learns nothing of A's upload"
    assert copy["asset"]["id"] != first["asset"]["id"] and copy["asset"]["original_name"] == "mine.png"
    page_a, page_b = _signed_in(user_a), _signed_in(user_b)
    for url in _asset_urls(first["asset"]["id"]):
        assert page_b.get(url).status_code == 404, url
    for url in _asset_urls(copy["asset"]["id"]):
        assert page_b.get(url).status_code == 200, url
        assert page_a.get(url).status_code == 404, url

    # One stored original and one tile pyramid serve both records.
    assert len(list((media_root / "assets").rglob("*.png"))) == 1
    assert len(list((media_root / "derived").iterdir())) == 1
    mine = Asset.objects.get(pk=copy["asset"]["id"])
    assert mine.derivatives == "ready" and mine.dzi == Asset.objects.get(pk=first["asset"]["id"]).dzi

    again = _upload(api_b, project_b, "mine-again.png", data)
    assert again["status"] == "duplicate" and again["asset"]["id"] == copy["asset"]["id"]


def test_uploads_outside_a_project_are_deduplicated_per_uploader(project, make_user, api_for, images):
    first, second = make_user("operator"), make_user("operator")
    data = images.image("PNG", seed=42)
    url = reverse("api-asset-upload")

    def upload(user, name):
        response = api_for(user).post(url, {"files": [SimpleUploadedFile(name, data)]}, format="multipart")
        assert response.status_code in (200, 201), response.json()
        return response.json()

    mine = upload(first, "first.png")["results"][0]
    theirs = upload(second, "second.png")["results"][0]
    assert (mine["status"], theirs["status"]) == ("created", "created")
    assert theirs["asset"]["id"] != mine["asset"]["id"]
    assert api_for(second).get(reverse("api-asset-detail", args=[mine["asset"]["id"]])).status_code == 404
    assert upload(first, "first-again.png")["results"][0]["asset"]["id"] == mine["asset"]["id"]


def test_the_migration_gives_each_project_its_own_record_of_a_shared_asset(make_project, make_asset):
    import importlib

    from django.apps import apps

    from webapp.labeling.models import WorkItemAsset
    from webapp.labeling.services import item_create

    migration = importlib.import_module("webapp.assets.migrations.0003_asset_per_project")
    first, second, third = (make_project("catheter") for _ in range(3))
    shared, unlinked = make_asset(name="shared.png"), make_asset(name="alone.png")
    items = [item_create(project=p, asset_ids=[shared.pk]) for p in (first, second, second, third)]
    migration.split_shared_assets(apps, None)

    records = {link.item.project_id: link.asset for link in WorkItemAsset.objects.select_related("asset", "item")}
    assert records[first.pk].pk == shared.pk and len({a.pk for a in records.values()}) == 3
    assert {(a.project_id, a.sha256, a.original, a.original_name) for a in records.values()} == {
        (p.pk, shared.sha256, shared.original, "shared.png") for p in (first, second, third)}
    second_items = WorkItemAsset.objects.filter(item__in=items[1:3]).values_list("asset_id", flat=True)
    assert len(set(second_items)) == 1, "the items of one project share that project's record"
    assert Asset.objects.get(pk=unlinked.pk).project_id is None


def test_an_item_cannot_show_another_projects_asset(make_project, images):
    from webapp.assets.services import asset_ingest
    from webapp.core.errors import NotFound
    from webapp.labeling.services import item_create

    first, second = make_project("catheter"), make_project("catheter")
    asset, _ = asset_ingest(data=images.image("PNG", seed=43), name="a.png", project_id=first.pk)
    with pytest.raises(NotFound, match=f"no asset with id {asset.pk}"):
        item_create(project=second, asset_ids=[asset.pk])
    assert item_create(project=first, asset_ids=[asset.pk]).item_assets.get().asset_id == asset.pk
