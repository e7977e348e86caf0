"""Costly small inputs: per-user upload rate, pixel budget per hour, re-predict de-duplicated and limited."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def _png(width: int, height: int, seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), color=seed % 256).save(out, format="PNG")
    return out.getvalue()


def _uploader(make_user, project):
    """An operator of ``project`` (uploading needs a role in some project)."""
    from webapp.accounts.services import project_member_add

    user = make_user("operator")
    project_member_add(project_id=project.pk, user=user, role="operator")
    return user


def test_a_tiny_png_declaring_many_pixels_counts_against_the_hourly_budget(make_user, api_for, settings, project):
    settings.LOUPE_UPLOAD_PIXELS_PER_HOUR = 5_000_000
    user = _uploader(make_user, project)
    api = api_for(user)
    first = api.post("/api/v1/assets/", {"files": [SimpleUploadedFile("a.png", _png(2000, 2000, 1))]})
    assert first.status_code == 201, first.content
    big = _png(2000, 1000, 2)
    assert len(big) < 50_000  # a small file, 2 Mpx of work
    second = api.post("/api/v1/assets/", {"files": [SimpleUploadedFile("b.png", big)]})
    assert second.status_code == 429
    assert "over your upload budget of 5 Mpx per hour" in second.json()["detail"]
    # Another user has a budget of their own.
    other = api_for(_uploader(make_user, project)).post("/api/v1/assets/",
                                                        {"files": [SimpleUploadedFile("b.png", big)]})
    assert other.status_code == 201


def test_uploads_are_rate_limited_per_user(make_user, api_for, settings, project):
    settings.LOUPE_THROTTLE_RATES = {**settings.LOUPE_THROTTLE_RATES, "uploads": "3/minute"}
    api = api_for(_uploader(make_user, project))
    codes = [api.post("/api/v1/assets/", {"files": [SimpleUploadedFile(f"{n}.png", _png(8, 8, n))]}).status_code
             for n in range(5)]
    assert codes[:3] == [201, 201, 201] and codes[3:] == [429, 429]


@pytest.fixture
def sent_tasks(monkeypatch):
    from webapp.config.celery import app

    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, kwargs=None, **opts: sent.append((name, args)))
    return sent


def test_repredict_queues_one_pending_request_per_item(make_user, api_for, make_project, make_item, sent_tasks,
                                                       django_capture_on_commit_callbacks):
    from webapp.labeling.services import item_repredict_started

    item = make_item(make_project("catheter"))
    api = api_for(make_user("operator"))
    with django_capture_on_commit_callbacks(execute=True):
        answers = [api.post(f"/api/v1/items/{item.pk}/repredict/").json() for _ in range(5)]
    assert [a["queued"] for a in answers] == [True, False, False, False, False]
    assert [n for n, _ in sent_tasks].count("loupe.infer.repredict_item") == 1
    item_repredict_started(item_id=item.pk)  # the worker took it: the next request queues again
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/items/{item.pk}/repredict/").json()["queued"] is True
    assert [n for n, _ in sent_tasks].count("loupe.infer.repredict_item") == 2


def test_repredict_is_rate_limited_per_user(make_user, api_for, make_project, make_item, settings, sent_tasks):
    settings.LOUPE_THROTTLE_RATES = {**settings.LOUPE_THROTTLE_RATES, "repredict": "4/minute"}
    project = make_project("catheter")
    items = [make_item(project) for _ in range(6)]
    api = api_for(make_user("operator"))
    codes = [api.post(f"/api/v1/items/{i.pk}/repredict/").status_code for i in items]
    assert codes == [202] * 4 + [429] * 2
