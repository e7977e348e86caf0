"""A script with an API token fetches an original, its derivatives and a project's export: 200 with the
bytes, never the sign-in page's HTML. A bad token is a 401, another project's asset a 404."""
from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from webapp.assets.services import asset_build_derivatives, asset_ingest

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def shown_asset(images, project, media_root):
    from webapp.labeling.services import item_create

    asset, _ = asset_ingest(data=images.image("PNG", (300, 200), seed=12), name="page.png", project_id=project.pk)
    item_create(project=project, asset_ids=[asset.pk])
    asset_build_derivatives(asset_id=asset.pk)
    return asset


def test_files_answer_a_token(shown_asset, operator, api_for, media_root):
    api = api_for(operator)
    original = api.get(reverse("asset-original", args=[shown_asset.pk]))
    assert original.status_code == 200 and original["Content-Type"] == "image/png"
    assert body(original) == (media_root / shown_asset.original).read_bytes()
    for name, extra in [("asset-working", {}), ("asset-dzi", {}), ("asset-tile", {"level": 0, "col": 0, "row": 0})]:
        response = api.get(reverse(name, kwargs={"asset_id": shown_asset.pk, **extra}))
        assert response.status_code == 200 and not response["Content-Type"].startswith("text/html"), name


def test_a_bad_token_is_a_401_and_an_outsider_a_404(shown_asset, make_user, api_for):
    url = reverse("asset-original", args=[shown_asset.pk])
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    refused = forged.get(url)
    assert refused.status_code == 401 and "token" in refused.content.decode().lower()
    assert refused["WWW-Authenticate"] == "Token"
    assert api_for(make_user("operator", member=False)).get(url).status_code == 404
    assert APIClient().get(url).status_code == 302, "a browser without a session is still sent to sign in"


def test_an_export_answers_a_token(project, operator, api_for):
    response = api_for(operator).get(reverse("api-export", args=[project.pk]) + "?format=jsonl")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"


def test_the_audit_trails_csv_answers_a_token(admin_user, api_for):
    response = api_for(admin_user).get("/models/audit/?format=csv&trail=thresholds")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
