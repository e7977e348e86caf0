"""Request-level bounds: pagination parameters, body size, JSON depth; page views answer 404, not 500."""
import json

import pytest

from webapp.core.request_guard import json_depth

OK = {"verdict": "ok", "shots": [{"defects": []}]}
HUGE = "99999999999999999999"


@pytest.mark.parametrize("url", ["/api/v1/projects/{p}/items/", "/api/v1/models/", "/api/v1/promotions/",
                                 "/api/v1/training-runs/"])
def test_paginated_lists_refuse_out_of_range_limit_and_offset(url, make_project, make_item, admin_user, api_for):
    project = make_project()
    make_item(project)
    api = api_for(admin_user)
    url = url.format(p=project.pk)
    for param in ("limit", "offset"):
        r = api.get(f"{url}?{param}={HUGE}")
        assert r.status_code == 400, (url, param, r.content)
        assert param in r.json() and "between" in r.json()[param][0]
    assert api.get(f"{url}?limit=abc").status_code == 400 and api.get(f"{url}?limit=").status_code == 400
    ok = api.get(f"{url}?limit=1000&offset=0")
    assert ok.status_code == 200 and "results" in ok.json()


def test_json_depth_is_measured_without_recursion():
    assert json_depth(b'{"a": [1, {"b": "[[[[not brackets]"}]}') == 3
    assert json_depth(b'"\\"[["') == 0
    assert json_depth(b"[" * 100_000 + b"]" * 100_000) == 100_000


def test_deeply_nested_body_is_a_400_naming_the_depth(make_project, make_item, operator, api_for):
    item = make_item(make_project())
    api = api_for(operator)
    deep = '{"annotation": ' + "[" * 100_000 + "]" * 100_000 + ', "base_revision": null}'
    r = api.post(f"/api/v1/items/{item.pk}/revisions/", deep, content_type="application/json")
    assert r.status_code == 400 and r["Content-Type"].startswith("application/json")
    assert r.json()["code"] == "too_deep" and "100001 levels" in r.json()["detail"]
    # An ordinary annotation still goes through.
    assert api.post(f"/api/v1/projects/{item.project_id}/take-next/").status_code == 200
    fine = api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": OK, "base_revision": None}, format="json")
    assert fine.status_code == 201, fine.content


def test_oversized_bodies_answer_json_413(make_project, make_item, operator, api_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    item = make_item(make_project())
    api = api_for(operator)
    body = json.dumps({"annotation": {"verdict": "ok", "shots": [{"defects": []}], "pad": "x" * 20_000},
                       "base_revision": None})
    r = api.post(f"/api/v1/items/{item.pk}/revisions/", body, content_type="application/json")
    assert r.status_code == 413 and r.json()["code"] == "too_large" and r.json()["limit"] == 10_000
    form = api.post(f"/api/v1/items/{item.pk}/reviews/", "decision=accept&comment=" + "x" * 20_000,
                    content_type="application/x-www-form-urlencoded")
    assert form.status_code == 413 and form.json()["code"] == "too_large"


def test_oversized_multipart_request_answers_json_413(make_project, operator, api_for, settings):
    settings.LOUPE_MAX_REQUEST_BYTES = 5_000
    project = make_project()
    r = api_for(operator).post(f"/api/v1/projects/{project.pk}/upload/", {"files": [_file("a.png", 8_000)]})
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_too_many_files_answers_json(make_project, operator, api_for, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    project = make_project()
    files = [_file(f"{n}.png", 10) for n in range(3)]
    r = api_for(operator).post(f"/api/v1/projects/{project.pk}/upload/", {"files": files})
    assert r.status_code == 400 and r.json()["code"] == "too_many_files"


def _file(name: str, size: int):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"\0" * size, content_type="image/png")


def test_item_page_of_a_missing_item_is_404(client, operator):
    client.force_login(operator)
    assert client.get("/items/99999/").status_code == 404


def test_nul_characters_are_refused_before_the_database(make_project, make_item, admin_user, operator, api_for):
    """PostgreSQL stores no NUL in text or jsonb: refused as a 400 instead of failing there as a 500."""
    assert api_for(admin_user).get("/api/v1/models/?kind=a%00b").status_code == 400
    item = make_item(make_project())
    body = '{"annotation": {"verdict": "ok", "shots": [{"defects": []}], "note": "a\\u0000b"}, "base_revision": null}'
    r = api_for(operator).post(f"/api/v1/items/{item.pk}/revisions/", body, content_type="application/json")
    assert r.status_code == 400 and "NUL" in r.json()["detail"]
    from webapp.core.request_guard import _JSON_NUL

    assert not _JSON_NUL.search(b'{"note": "a\\\\u0000b"}')  # an escaped backslash, then plain "u0000"
