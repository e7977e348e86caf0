"""POST /api/v1/items/<id>/repredict/: queued ahead of backfill; clear refusals."""
import pytest

pytestmark = pytest.mark.django_db


def test_repredict_is_queued_with_the_interactive_priority(api_for, operator, make_project, make_item, settings,
                                                           django_capture_on_commit_callbacks, monkeypatch):
    from webapp.config.celery import app

    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, kwargs=None, **opts: sent.append((name, args, opts)))
    item = make_item(make_project())
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(operator).post(f"/api/v1/items/{item.pk}/repredict/")
    assert response.status_code == 202 and response.json() == {"item": item.pk, "queued": True}
    assert ("loupe.infer.repredict_item", [item.pk], {"priority": settings.LOUPE_PRIORITY_INTERACTIVE}) in sent
    assert settings.LOUPE_PRIORITY_INTERACTIVE < settings.LOUPE_PRIORITY_BACKFILL   # Redis: 0 is served first


def test_repredict_refusals(api_for, operator, make_project, make_item):
    from webapp.labeling.models import WorkItem

    assert api_for(operator).post("/api/v1/items/999999/repredict/").status_code == 404
    item = make_item(make_project())
    WorkItem.objects.filter(pk=item.pk).update(state="accepted")
    response = api_for(operator).post(f"/api/v1/items/{item.pk}/repredict/")
    assert response.status_code == 409 and "accepted" in response.json()["detail"]
    client = api_for(operator)
    client.credentials()
    assert client.post(f"/api/v1/items/{item.pk}/repredict/").status_code in (401, 403)
