"""The API does what its OpenAPI document says: bodies documented as what they are, every status it answers
documented, query parameters of the wrong type refused with a 400 naming them."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_for, admin_user) -> dict:
    response = api_for(admin_user).get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_the_export_documents_its_json_body_as_an_object(schema):
    content = schema["paths"]["/api/v1/projects/{id}/export/"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"]["type"] == "object"
    assert "COCO" in content["application/json"]["schema"]["description"]
    for binary in ("application/zip",):
        assert content[binary]["schema"] == {"type": "string", "format": "binary"}


def test_flag_resolve_documents_and_answers_its_409(schema, make_project, make_item, operator, admin_user, api_for):
    from webapp.labeling.models import Flag

    assert "409" in schema["paths"]["/api/v1/flags/{id}/resolve/"]["post"]["responses"]
    flag = Flag.objects.create(item=make_item(make_project()), author=operator, reason="other", return_state="new")
    api = api_for(admin_user)
    assert api.post(f"/api/v1/flags/{flag.pk}/resolve/", {"comment": "fine"}, format="json").status_code == 200
    again = api.post(f"/api/v1/flags/{flag.pk}/resolve/", {"comment": "fine"}, format="json")
    assert again.status_code == 409 and "resolved already" in again.json()["detail"]


def test_nul_in_json_is_documented(schema):
    assert "NUL" in schema["info"]["description"]
    body_400 = schema["paths"]["/api/v1/items/{id}/revisions/"]["post"]["responses"]["400"]["description"]
    assert "NUL" in body_400


def test_query_parameters_of_the_wrong_type_are_refused(make_project, make_item, admin_user, api_for):
    project = make_project()
    make_item(project)
    api = api_for(admin_user)
    huge = str(2**64 + 1)
    for method, url, name in [
        ("post", f"/api/v1/projects/{project.pk}/take-next/?expand=bogus", "expand"),
        ("get", f"/api/v1/projects/{project.pk}/flags/?open=abc", "open"),
        ("get", f"/api/v1/projects/{project.pk}/flags/?open=2", "open"),
        ("get", f"/api/v1/training-triggers/?project={huge}", "project"),
        ("get", "/api/v1/training-triggers/?project=%C2%B2", "project"),   # a superscript two is no id
        ("get", f"/api/v1/models/1/compare/?against={huge}", "against"),
    ]:
        response = getattr(api, method)(url)
        assert response.status_code == 400, (url, response.status_code, response.content[:300])
        assert response.json().get("detail", "").startswith(f"{name}: ") or name in response.json(), url
    assert api.get(f"/api/v1/projects/{project.pk}/flags/?open=true").status_code == 200
    assert api.get(f"/api/v1/projects/{project.pk}/flags/?open=false").status_code == 200
    assert api.get(f"/api/v1/training-triggers/?project={project.pk}").status_code == 200


def test_a_wrong_typed_threshold_basis_is_refused(admin_user, api_for):
    response = api_for(admin_user).post("/api/v1/models/1/threshold/", {"value": 0.5, "reason": "r", "basis": 5},
                                        format="json")
    assert response.status_code == 400 and "basis" in response.json()


def test_a_post_without_a_body_is_told_what_is_missing(make_project, make_item, operator, admin_user, api_for):
    """No body and no content type: a 400 whose JSON names what to send (the resolve's comment is optional)."""
    from webapp.labeling.models import Flag

    project, omr = make_project("catheter"), make_project("omr")
    flag = Flag.objects.create(item=make_item(project), author=operator, reason="other", return_state="new")
    api = api_for(admin_user)
    for url, named in [("/api/v1/assets/", "files"), (f"/api/v1/projects/{project.pk}/upload/", "files"),
                       (f"/api/v1/items/{make_item(omr).pk}/omr/recompute/", "point_pairs"),
                       ("/api/v1/training-triggers/", "project")]:
        response = api.generic("POST", url, b"", content_type="")
        assert response.status_code == 400 and response["Content-Type"] == "application/json", url
        assert named in response.content.decode(), (url, response.content)
    resolved = api.generic("POST", f"/api/v1/flags/{flag.pk}/resolve/", b"", content_type="")
    assert resolved.status_code == 200 and resolved.json()["comment"] == ""


def test_a_body_of_another_content_type_is_a_documented_415(schema, admin_user, api_for):
    assert "415" in schema["paths"]["/api/v1/training-triggers/"]["post"]["responses"]
    response = api_for(admin_user).generic("POST", "/api/v1/training-triggers/", b"x", content_type="text/plain")
    assert response.status_code == 415 and "text/plain" in response.json()["detail"]


def test_the_compare_page_reads_against_with_the_same_parser(client, admin_user):
    client.force_login(admin_user)
    for against in (str(2**64 + 1), "x"):
        response = client.get(f"/models/1/compare/?against={against}")
        assert response.status_code == 400 and response.content.decode().startswith("against: "), against
