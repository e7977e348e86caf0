"""The label-quality API and page: control items marked by admins, operators' control accuracy for admins
and reviewers, suspect labels listed with why and resolved by reviewers; each URL answers each role as the
permission table says."""
import pytest
from django.test import Client

from webapp.labeling.models import ControlItem, SuspectLabel
from webapp.labeling.services import lease_take_next, prediction_record, revision_submit

DEFECT = {"type": "axial_scratch", "box": [10, 20, 60, 200]}
TRUTH = {"verdict": "defect", "shots": [{"defects": [DEFECT]}]}
WRONG = {"verdict": "ok", "shots": [{"defects": []}]}


def _answer_next(project, user, annotation):
    lease = lease_take_next(project_id=project.pk, user=user)
    revision_submit(item_id=lease.item_id, user=user, annotation=annotation, base_revision=None)
    return lease.item_id


@pytest.fixture
def quality_world(make_project, make_item, make_user):
    """Two accepted items (one a control item), a suspect answer, and a careless operator who answered the
    control wrong."""
    from webapp.labeling.services.controls import control_mark
    from webapp.mlops.services import model_version_register

    project = make_project("catheter", review_required=False, control_rate=1.0, queue_policy="fifo")
    users = {role: make_user(role) for role in ("operator", "reviewer", "admin")}
    users["outsider"] = make_user("operator", member=False)
    author = make_user("operator", username="author")
    version = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/srv/m/v1")
    items = [make_item(project) for _ in range(3)]
    prediction_record(item_id=items[1].pk, model_version_id=version.pk, payload=TRUTH, uncertainty=0.1,
                      scores={"defect": 0.99})
    control_id = _answer_next(project, author, TRUTH)
    suspect_id = _answer_next(project, author, WRONG)       # the model is 99 % sure of a defect
    control_mark(item_id=control_id, user=users["admin"])
    careless = make_user("operator", username="careless")
    _answer_next(project, careless, WRONG)                   # served the control, answered wrong
    return {"project": project, "users": users, "control": control_id, "suspect": suspect_id,
            "open": items[2].pk}


def test_control_item_api_marks_items_and_reports_operator_quality(quality_world, api_for):
    project, users = quality_world["project"], quality_world["users"]
    admin = api_for(users["admin"])
    url = f"/api/v1/items/{quality_world['open']}/control/"
    refused = admin.post(url, {"active": True}, format="json")
    assert refused.status_code == 409 and "only an accepted item" in refused.json()["detail"]
    assert admin.post(url, {"active": "yes"}, format="json").status_code == 400
    off = admin.post(f"/api/v1/items/{quality_world['control']}/control/", {"active": False}, format="json")
    assert off.status_code == 200 and off.json()["active"] is False and off.json()["answered"] == 1
    assert not ControlItem.objects.get(item_id=quality_world["control"]).active

    for bad in ("0.05", 1.5, -0.1):
        assert admin.patch(f"/api/v1/projects/{project.pk}/", {"control_rate": bad}, format="json").status_code == 400
    changed = admin.patch(f"/api/v1/projects/{project.pk}/", {"control_rate": 0.05}, format="json")
    assert changed.status_code == 200 and changed.json()["control_rate"] == 0.05

    report = api_for(users["reviewer"]).get(f"/api/v1/projects/{project.pk}/operator-quality/")
    assert report.status_code == 200
    body = report.json()
    assert body["kind"] == "catheter" and body["control_rate"] == 0.05 and "box F1" in body["measure"]
    (careless,) = body["operators"]
    assert careless["operator"] == "careless" and careless["answered"] == 1 and careless["accuracy"] == 0.0
    assert [p["accuracy"] for p in careless["series"]] == [0.0] and careless["days"][0]["answered"] == 1
    assert api_for(users["operator"]).get(f"/api/v1/projects/{project.pk}/operator-quality/").status_code == 403


def test_suspect_label_api_shows_why_and_takes_a_reviewers_decision(quality_world, api_for):
    project, users = quality_world["project"], quality_world["users"]
    reviewer = api_for(users["reviewer"])
    listed = reviewer.get(f"/api/v1/projects/{project.pk}/suspects/")
    (row,) = listed.json()
    assert row["item"] == quality_world["suspect"] and row["author"] == "author"
    assert row["confidence"] == pytest.approx(0.99) and row["why"]["model_says"] == "defect"
    assert row["proposal"] == TRUTH and row["model_version"] == 1
    assert row["author_control"] == {"answered": 0, "accuracy": None}
    assert reviewer.get(f"/api/v1/projects/{project.pk}/suspects/?state=maybe").status_code == 400
    url = f"/api/v1/items/{quality_world['suspect']}/suspect/resolve/"
    assert reviewer.post(url, {"decision": "correct"}, format="json").status_code == 400   # no annotation
    assert api_for(users["operator"]).post(url, {"decision": "confirm"}, format="json").status_code == 403
    done = reviewer.post(url, {"decision": "correct", "annotation": TRUTH, "comment": "a scratch"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "corrected"
    assert done.json()["resolved_by"] == users["reviewer"].username
    assert reviewer.post(url, {"decision": "confirm"}, format="json").status_code == 409   # nothing open now
    assert reviewer.get(f"/api/v1/projects/{project.pk}/suspects/").json() == []


def test_control_item_and_suspect_label_page_without_javascript(quality_world):
    project, users = quality_world["project"], quality_world["users"]
    page = Client()
    page.force_login(users["reviewer"])
    html = page.get(f"/projects/{project.slug}/quality/").content.decode()
    assert 'data-operator="careless"' in html and "<polyline" in html
    assert f'data-item="{quality_world["suspect"]}"' in html and "the model says defect" in html
    assert 'id="mark-control"' not in html                   # marking is for admins
    page.post(f"/items/{quality_world['suspect']}/suspect/resolve/", {"decision": "confirm", "comment": "fine"})
    assert SuspectLabel.objects.get(item_id=quality_world["suspect"]).state == "confirmed"
    admin = Client()
    admin.force_login(users["admin"])
    assert 'id="mark-control"' in admin.get(f"/projects/{project.slug}/quality/").content.decode()
    admin.post(f"/projects/{project.slug}/quality/controls/", {"item": str(quality_world["suspect"])})
    assert ControlItem.objects.filter(item_id=quality_world["suspect"], active=True).exists()


ROLES = ("anonymous", "outsider", "operator", "reviewer", "admin")
# (method, URL template, expected status per role); "ok" is any answer but a refusal.
MATRIX = [
    ("get", "/api/v1/projects/{project}/operator-quality/", (401, 404, 403, "ok", "ok")),
    ("get", "/api/v1/projects/{project}/suspects/", (401, 404, 403, "ok", "ok")),
    ("post", "/api/v1/items/{control}/control/", (401, 404, 403, 403, "ok")),
    ("post", "/api/v1/items/{suspect}/suspect/resolve/", (401, 404, 403, "ok", "ok")),
    ("get", "/projects/{slug}/quality/", (302, 404, 403, "ok", "ok")),
    ("post", "/projects/{slug}/quality/controls/", (302, 404, 403, 403, "ok")),
    ("post", "/items/{suspect}/suspect/resolve/", (302, 404, 403, "ok", "ok")),
]


@pytest.mark.parametrize("method,template,expected", MATRIX)
def test_control_item_and_suspect_label_urls_answer_each_role_as_the_table_says(quality_world, api_for, method,
                                                                                template, expected):
    world = quality_world
    url = template.format(project=world["project"].pk, slug=world["project"].slug, control=world["control"],
                          suspect=world["suspect"])
    for role, want in zip(ROLES, expected):
        if url.startswith("/api/"):
            client = api_for(world["users"][role]) if role != "anonymous" else Client()
            answer = getattr(client, method)(url, {"decision": "confirm", "active": True}, format="json") \
                if role != "anonymous" else getattr(client, method)(url)
        else:
            client = Client()
            if role != "anonymous":
                client.force_login(world["users"][role])
            answer = getattr(client, method)(url, {"decision": "confirm", "item": str(world["control"])})
        if want == "ok":
            assert answer.status_code not in (401, 403, 404), (role, url, answer.status_code)
        else:
            assert answer.status_code == want, (role, url, answer.status_code)


def test_control_item_copy_looks_like_any_item_to_its_operator(make_project, make_item, make_user, api_for):
    """Blind: the copy's item and lease read as another item's do (same fields, pool split, a proposal)."""
    from webapp.labeling.services.controls import control_mark
    from webapp.mlops.services import model_version_register

    project = make_project("catheter", review_required=False, queue_policy="fifo")
    version = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/srv/m/v1")
    items = [make_item(project, meta={"line": "A"}) for _ in range(3)]
    for item in items:
        prediction_record(item_id=item.pk, model_version_id=version.pk, payload=WRONG, uncertainty=0.3,
                          scores={"defect": 0.2})
    author, operator = make_user("operator"), make_user("operator")
    control_mark(item_id=_answer_next(project, author, WRONG), user=make_user("admin"))
    from webapp.labeling.services import project_update

    project_update(project=project, control_rate=1.0)
    api = api_for(operator)
    seen = []
    for _ in range(2):
        taken = api.post(f"/api/v1/projects/{project.pk}/take-next/?expand=item").json()
        seen.append(taken)
        api.post(f"/api/v1/items/{taken['item']}/revisions/", {"annotation": WRONG, "base_revision": None},
                 format="json")
    copy, plain = seen
    assert ControlItem.objects.get().answers.get().copy_id == copy["item"]
    assert copy.keys() == plain.keys() and copy["detail"].keys() == plain["detail"].keys()
    for key in ("state", "split", "meta", "head_revision", "previous_state"):
        assert copy["detail"].get(key, copy.get(key)) == plain["detail"].get(key, plain.get(key)), key
    assert "control" not in str(copy).lower()
