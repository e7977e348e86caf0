"""Large zip uploads are expanded by a worker task, off the web request, with progress and a report."""
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from webapp.assets.models import Asset, ZipImport
from webapp.assets.storage import media_path
from webapp.labeling.models import WorkItem


@pytest.fixture
def sent(monkeypatch):
    from webapp.config.celery import app

    tasks = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, kwargs=None, **opts: tasks.append((name, args)))
    return tasks


@pytest.fixture
def small_inline(settings):
    settings.LOUPE_ZIP_INLINE_MEMBERS = 2


def _uploader(make_user, project, role="operator"):
    """A member of ``project`` (uploading needs a role in some project)."""
    from webapp.accounts.services import project_member_add

    user = make_user(role)
    if role != "admin":
        project_member_add(project_id=project.pk, user=user, role=role)
    return user


def _run_import(sent) -> int:
    from workers.assets import zip_import

    (import_id,) = [args[0] for name, args in sent if name == "loupe.cpu.zip_import"]
    assert zip_import(import_id) == "done"
    return import_id


def test_a_large_zip_is_queued_then_expanded_by_the_worker(images, make_user, api_for, sent, small_inline, project,
                                                            django_capture_on_commit_callbacks):
    user = _uploader(make_user, project)
    api = api_for(user)
    data = images.zip({f"{n}.png": images.image(seed=40 + n) for n in range(4)})
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post("/api/v1/assets/", {"files": [SimpleUploadedFile("four.zip", data)]})
    assert answer.status_code == 202, answer.content
    (job,) = answer.json()["imports"]
    assert job["state"] == "queued" and job["members_total"] == 4 and not Asset.objects.exists()
    stored = ZipImport.objects.get(pk=job["id"]).archive
    assert media_path(stored).exists()
    _run_import(sent)
    done = api.get(job["url"]).json()
    assert done["state"] == "done" and done["members_done"] == 4
    assert done["report"]["counts"] == {"created": 4, "duplicate": 0, "refused": 0} and done["report"]["status"] == 201
    assert Asset.objects.count() == 4 and not media_path(stored).exists()
    # Only the uploader (or an admin) follows an import.
    assert api_for(_uploader(make_user, project)).get(job["url"]).status_code == 404
    assert api_for(make_user("admin")).get(job["url"]).status_code == 200


def test_a_large_zip_into_a_project_makes_items_in_the_worker(images, project, make_user, api_for, sent,
                                                              small_inline, django_capture_on_commit_callbacks):
    api = api_for(_uploader(make_user, project))
    data = images.zip({f"balloon{b}_{n}.png": images.image(seed=60 + 3 * b + n) for b in range(2) for n in range(2)})
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(f"/api/v1/projects/{project.pk}/upload/",
                          {"files": [SimpleUploadedFile("series.zip", data)], "grouping": "series"})
    assert answer.status_code == 202, answer.content
    assert not WorkItem.objects.filter(project=project).exists()
    import_id = _run_import(sent)
    report = ZipImport.objects.get(pk=import_id).report
    assert [i["created"] for i in report["items"]] == [True, True]
    assert WorkItem.objects.filter(project=project).count() == 2


def test_a_large_bomb_is_refused_up_front_and_nothing_is_queued(make_user, api_for, sent, small_inline, project):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n in range(200):
            z.writestr(f"z{n}.png", b"\0" * (1024 * 1024))
    answer = api_for(_uploader(make_user, project)).post("/api/v1/assets/",
                                                         {"files": [SimpleUploadedFile("b.zip", out.getvalue())]})
    assert answer.status_code == 400 and "zip bomb" in answer.json()["detail"]
    assert not ZipImport.objects.exists() and not sent
