"""Inputs that used to answer 500: each is now a 4xx whose JSON body names the problem."""
import pytest

from webapp.labeling.models import Project
from webapp.labeling.services.items import slug_from_name
from webapp.mlops.models import TrainingRun
from webapp.mlops.services import model_version_register

OK = {"verdict": "ok", "shots": [{"defects": []}]}


def test_slugs_are_ascii_non_empty_and_unique_for_any_name(admin_user, api_for, client):
    assert slug_from_name("Zürich Qualität") == "zurich-qualitat"
    assert slug_from_name("🎉🎉").startswith("project-") and slug_from_name("🎉🎉") != slug_from_name("🎈")
    api = api_for(admin_user)
    slugs = []
    for name in ["🎉🎉", "🎉🎉", "東京", "Zürich", "Zurich"]:
        r = api.post("/api/v1/projects/", {"name": name, "kind": "catheter"}, format="json")
        assert r.status_code == 201, r.content
        slugs.append(r.json()["slug"])
    assert all(slugs) and len(set(slugs)) == 5
    assert slugs[1] == slugs[0] + "-2" and slugs[4] == "zurich-2"
    client.force_login(admin_user)
    page = client.get("/projects/")
    assert page.status_code == 200 and "🎉🎉" in page.content.decode()
    taken = api.post("/api/v1/projects/", {"name": "x", "slug": slugs[0], "kind": "catheter"}, format="json")
    assert taken.status_code == 400 and "slug" in taken.json()


def test_a_projects_kind_cannot_change_once_it_has_items(make_project, make_item, admin_user, api_for):
    api = api_for(admin_user)
    empty = make_project("catheter")
    assert api.patch(f"/api/v1/projects/{empty.pk}/", {"kind": "articles"}, format="json").status_code == 200
    assert Project.objects.get(pk=empty.pk).kind == "articles"
    used = make_project("catheter")
    make_item(used)
    r = api.patch(f"/api/v1/projects/{used.pk}/", {"kind": "omr"}, format="json")
    assert r.status_code == 400 and "kind" in r.json() and "cannot change" in r.json()["detail"]
    assert Project.objects.get(pk=used.pk).kind == "catheter"
    assert api.patch(f"/api/v1/projects/{used.pk}/", {"name": "renamed"}, format="json").status_code == 200


def test_prediction_with_an_unknown_model_version_is_a_400(make_project, make_item, admin_user, api_for):
    item = make_item(make_project())
    api = api_for(admin_user)
    for version in (99999, "99999999999999999999999"):
        r = api.post(f"/api/v1/items/{item.pk}/predictions/",
                     {"model_version": version, "payload": OK, "uncertainty": 0.5}, format="json")
        assert r.status_code == 400 and "model_version" in (set(r.json()) | {r.json().get("field")}), r.content
    v = model_version_register(kind="catheter", scope_key="", artifact_uri="/tmp/v")
    r = api.post(f"/api/v1/items/{item.pk}/predictions/", {"model_version": v.pk, "payload": OK, "uncertainty": 0.5},
                 format="json")
    assert r.status_code == 201


@pytest.mark.parametrize("project", [-4.58e28, "-4.58e28", -45800000000000000000000000000, 0, "abc"])
def test_training_run_with_a_malformed_project_is_a_400(project, admin_user, api_for):
    r = api_for(admin_user).post("/api/v1/training-runs/", {"kind": "catheter", "project": project}, format="json")
    assert r.status_code == 400 and "project" in r.json(), r.content
    form = api_for(admin_user).post("/api/v1/training-runs/", {"kind": "catheter", "project": str(project)})
    assert form.status_code == 400 and "project" in form.json()
    assert not TrainingRun.objects.exists()


def test_training_run_for_a_missing_project_or_kind_names_it(make_project, admin_user, api_for):
    api = api_for(admin_user)
    missing = api.post("/api/v1/training-runs/", {"kind": "catheter", "project": 99999}, format="json")
    assert missing.status_code == 404 and missing.json()["detail"] == "no project 99999"
    wrong_kind = api.post("/api/v1/training-runs/", {"kind": "articles", "project": make_project("catheter").pk},
                          format="json")
    assert wrong_kind.status_code == 400 and "project" in wrong_kind.json()
    unknown = api.post("/api/v1/training-runs/", {"kind": "nonsense"}, format="json")
    assert unknown.status_code == 400 and "kind" in unknown.json()
    assert not TrainingRun.objects.exists()
