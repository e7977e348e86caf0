"""items_ingest groupings, the project upload API and page, and the import_assets command."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from webapp.core.errors import ServiceError
from webapp.labeling.models import WorkItem
from webapp.labeling.services.ingest import items_ingest

pytestmark = pytest.mark.django_db


def item_files(project) -> dict[str, list[tuple[str, str]]]:
    return {item.external_id: [(link.asset.original_name, link.role) for link in item.item_assets.all()]
            for item in WorkItem.objects.filter(project=project).prefetch_related("item_assets__asset")}


def test_single_makes_one_item_per_image_and_reports_refusals(project, images):
    files = [("a.png", images.image(seed=1)), ("b.jpg", images.image("JPEG", seed=2)), ("c.png", b"text, no image")]
    report = items_ingest(project=project, files=files, grouping="single", user=None)
    assert [r.status for r in report.results] == ["created", "created", "refused"]
    assert item_files(project) == {"a": [("a.png", "shot")], "b": [("b.jpg", "shot")]}
    again = items_ingest(project=project, files=files[:2], grouping="single", user=None)
    assert [r.status for r in again.results] == ["duplicate", "duplicate"]
    assert [i["created"] for i in again.items] == [False, False] and WorkItem.objects.count() == 2


def test_series_groups_by_prefix_in_natural_order(project, images):
    names = ["b7_10.png", "b7_2.png", "b7_1.png", "b8-001.png", "b8-002.png", "lonely.png"]
    zipped = images.zip({"line2/b7_1.png": images.image(seed=90)})
    files = [(n, images.image(seed=i)) for i, n in enumerate(names)] + [("more.zip", zipped)]
    items_ingest(project=project, files=files, grouping="series", user=None)
    groups = item_files(project)
    assert [n for n, _ in groups["b7"]] == ["b7_1.png", "b7_2.png", "b7_10.png"]
    assert [n for n, _ in groups["b8"]] == ["b8-001.png", "b8-002.png"]
    assert [n for n, _ in groups["lonely"]] == ["lonely.png"]
    assert [n for n, _ in groups["line2/b7"]] == ["b7_1.png"], "other folders are other series"


def test_pairs_for_omr(make_project, images):
    omr = make_project("omr")
    files = [("p1.original.png", images.image(seed=1)), ("p1.photo.jpg", images.image("JPEG", seed=2)),
             ("p2.original.png", images.image(seed=3)), ("stray.png", images.image(seed=4))]
    report = items_ingest(project=omr, files=files, grouping="pairs", user=None)
    assert item_files(omr) == {"p1": [("p1.original.png", "original"), ("p1.photo.jpg", "photo")]}
    reasons = {u["name"]: u["reason"] for u in report.unmatched}
    assert "no photo file for 'p2'" in reasons["p2.original.png"] and "not paired" in reasons["stray.png"]


def test_grouping_must_fit_the_kind(make_project, project):
    with pytest.raises(ServiceError, match="use pairs"):
        items_ingest(project=make_project("omr"), files=[], grouping="single", user=None)
    with pytest.raises(ServiceError, match="single or series"):
        items_ingest(project=project, files=[], grouping="pairs", user=None)


def test_upload_api_and_roles(project, images, make_user):
    url = reverse("project-upload-api", args=[project.pk])
    files = [SimpleUploadedFile("s_1.png", images.image(seed=1)), SimpleUploadedFile("s_2.png", images.image(seed=2)),
             SimpleUploadedFile("oops.gif", images.image("GIF", seed=3))]
    api = APIClient()
    from django.contrib.auth import get_user_model

    api.force_authenticate(get_user_model().objects.create_user("no-role", password="x-password-1"))
    # Not a member: the project is not there for them (404, as for a project that does not exist).
    assert api.post(url, {"files": files, "grouping": "series"}, format="multipart").status_code == 404
    api.force_authenticate(make_user("operator"))
    for f in files:
        f.seek(0)
    response = api.post(url, {"files": files, "grouping": "series"}, format="multipart")
    body = response.json()
    assert response.status_code == 207 and body["counts"] == {"created": 2, "duplicate": 0, "refused": 1}
    assert body["items"][0]["files"] == ["s_1.png", "s_2.png"] and body["detail"].startswith("oops.gif: a GIF")
    wrong = api.post(url, {"files": [SimpleUploadedFile("x.png", images.image(seed=5))], "grouping": "pairs"},
                     format="multipart")
    assert wrong.status_code == 400 and "use single or series" in wrong.json()["detail"]
    assert api.post(reverse("project-upload-api", args=[10**6]), {}, format="multipart").status_code == 404


def test_upload_page(client, project, make_user):
    url = reverse("project-upload", args=[project.slug])
    assert client.get(url).status_code == 302
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("no-role", password="x-password-1"))
    assert client.get(url).status_code == 404  # not a member: no such project for them
    client.force_login(make_user("admin"))
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and reverse("project-upload-api", args=[project.pk]) in html
    assert 'id="drop-zone"' in html and "<progress" in html and 'value="series"' in html and "upload.js" in html


def test_import_command(project, images, tmp_path, capsys):
    folder = tmp_path / "incoming"
    (folder / "sub").mkdir(parents=True)
    (folder / "r1_a.png").write_bytes(images.image(seed=1))
    (folder / "r1_b.png").write_bytes(images.image(seed=2))
    (folder / "sub" / "bad.png").write_bytes(images.image(seed=3)[:100])
    (folder / ".hidden.png").write_bytes(b"skipped")
    call_command("import_assets", str(folder), project=project.slug, grouping="series")
    out = capsys.readouterr().out
    assert "2 created, 0 duplicate, 1 refused; 1 new work items" in out
    assert "refused sub/bad.png: truncated or corrupt" in out
    call_command("import_assets", str(folder), project=project.slug, grouping="series")
    assert "0 created, 2 duplicate" in capsys.readouterr().out
    empty = tmp_path / "junk"
    empty.mkdir()
    (empty / "note.txt").write_text("not an image")
    with pytest.raises(CommandError, match="nothing could be imported"):
        call_command("import_assets", str(empty), project=project.slug)
    with pytest.raises(CommandError, match="no project"):
        call_command("import_assets", str(folder), project="nope")
