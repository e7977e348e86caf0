import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from webapp.labeling.models import ItemState, Lease, Revision, WorkItem

DEFECT = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [5, 5, 25, 25]}]}]}


def test_take_next_submit_and_conflict_over_http(make_project, make_item, operator, make_user, api_for):
    project = make_project(review_required=False)
    item = make_item(project)
    api = api_for(operator)
    taken = api.post(f"/api/v1/projects/{project.pk}/take-next/")
    assert taken.status_code == 200 and taken.json()["item"] == item.pk
    saved = api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": DEFECT, "base_revision": None},
                     format="json")
    assert saved.status_code == 201, saved.content
    stale = api_for(make_user()).post(f"/api/v1/items/{item.pk}/revisions/",
                                      {"annotation": {"verdict": "ok", "shots": [{"defects": []}]},
                                       "base_revision": None},
                                      format="json")
    assert stale.status_code == 409
    body = stale.json()
    assert body["current"]["annotation"] == DEFECT and body["yours"]["verdict"] == "ok"
    assert Revision.objects.count() == 1
    assert api.post(f"/api/v1/projects/{project.pk}/take-next/").status_code == 204


def test_bad_payloads_get_clear_400s(make_project, make_item, operator, api_for):
    project = make_project()
    item = make_item(project)
    api = api_for(operator)
    missing = api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": DEFECT}, format="json")
    assert missing.status_code == 400 and "base_revision" in missing.json()
    out = api.post(f"/api/v1/items/{item.pk}/revisions/",
                   {"annotation": {"verdict": "defect",
                                   "shots": [{"defects": [{"type": "bubble", "box": [0, 0, 5000, 5]}]}]},
                    "base_revision": None}, format="json")
    assert out.status_code == 400
    assert out.json()["code"] == "invalid_annotation"
    assert "outside the image" in out.json()["errors"][0]["message"]
    not_json = api.post(f"/api/v1/items/{item.pk}/revisions/", "{nope", content_type="application/json")
    assert not_json.status_code == 400
    assert api.get("/api/v1/items/999999/").status_code == 404
    assert api.post("/api/v1/projects/999999/take-next/").status_code == 404


def test_roles_on_the_api(make_project, make_item, make_user, api_for, admin_user):
    project = make_project()
    item = make_item(project)
    reviewer_only = make_user("reviewer")
    operator = make_user("operator")
    assert api_for(operator).post("/api/v1/projects/", {"name": "x", "kind": "omr"}, format="json").status_code == 403
    created = api_for(admin_user).post("/api/v1/projects/", {"name": "New OMR", "kind": "omr"}, format="json")
    assert created.status_code == 201 and created.json()["slug"] == "new-omr"
    unknown = api_for(admin_user).post("/api/v1/projects/", {"name": "y", "kind": "lidar"}, format="json")
    assert unknown.status_code == 400
    assert api_for(reviewer_only).post(f"/api/v1/projects/{project.pk}/take-next/").status_code == 200
    assert api_for(operator).post(f"/api/v1/items/{item.pk}/reviews/", {"decision": "accept"},
                                  format="json").status_code == 403
    from rest_framework.test import APIClient
    assert APIClient().get("/api/v1/projects/").status_code in (401, 403)


def test_query_counts_do_not_grow_with_the_queue(make_project, make_item, operator, api_for, client):
    project = make_project()
    for _ in range(25):
        make_item(project, n_assets=3)
    api = api_for(operator)
    with CaptureQueriesContext(connection) as take:
        lease = api.post(f"/api/v1/projects/{project.pk}/take-next/").json()
    assert 1 <= len(take) <= 12, [q["sql"] for q in take]
    ann = {"verdict": "ok", "shots": [{"defects": []}] * 3}
    with CaptureQueriesContext(connection) as submit:
        assert api.post(f"/api/v1/items/{lease['item']}/revisions/", {"annotation": ann, "base_revision": None},
                        format="json").status_code == 201
    assert 1 <= len(submit) <= 14, [q["sql"] for q in submit]
    client.force_login(operator)
    with CaptureQueriesContext(connection) as page:
        assert client.get(f"/projects/{project.slug}/").status_code == 200
    assert len(page) <= 12, [q["sql"] for q in page]
    with CaptureQueriesContext(connection) as listing:
        assert api.get(f"/api/v1/projects/{project.pk}/items/?limit=50").status_code == 200
    assert 1 <= len(listing) <= 8, [q["sql"] for q in listing]


def test_item_list_filters_and_export(make_project, make_item, operator, reviewer, api_for):
    project = make_project(review_required=False)
    items = [make_item(project) for _ in range(3)]
    api = api_for(operator)
    assert api.post(f"/api/v1/projects/{project.pk}/take-next/").json()["item"] == items[0].pk
    api.post(f"/api/v1/items/{items[0].pk}/revisions/", {"annotation": DEFECT, "base_revision": None}, format="json")
    accepted = api.get(f"/api/v1/projects/{project.pk}/items/?state=accepted").json()
    assert [r["id"] for r in accepted["results"]] == [items[0].pk]
    assert api.get(f"/api/v1/projects/{project.pk}/items/?state=bogus").status_code == 400
    coco = api.get(f"/api/v1/projects/{project.pk}/export/?format=coco")
    assert coco.status_code == 200 and coco.streaming
    data = json.loads(b"".join(coco.streaming_content))
    assert len(data["annotations"]) == 1 and data["annotations"][0]["bbox"] == [5, 5, 20, 20]
    jsonl = api.get(f"/api/v1/projects/{project.pk}/export/?format=jsonl")
    assert b"".join(jsonl.streaming_content).decode().count("\n") == 1
    assert api.get(f"/api/v1/projects/{project.pk}/export/?format=pdf").status_code == 400


def test_pages_render(make_project, make_item, make_user, operator, client):
    project = make_project()
    item = make_item(project)
    assert client.get("/projects/").status_code == 302
    client.force_login(operator)
    assert b"Take next item" in client.get(f"/projects/{project.slug}/").content
    page = client.get(f"/items/{item.pk}/")
    assert page.status_code == 200 and b"item-data" in page.content
    response = client.post(f"/projects/{project.slug}/take-next/")
    assert response.status_code == 302 and response["Location"] == f"/items/{item.pk}/"
    item.refresh_from_db()
    assert item.state == ItemState.LEASED
    lease = item.leases.get()
    # The page finds the holder's lease itself; a ``?lease=`` in the URL is never used.
    assert client.get(f"/items/{item.pk}/?lease=../models/1/promote/").context["lease_token"] == str(lease.token)
    client.force_login(make_user("operator"))
    assert client.get(f"/items/{item.pk}/?lease={lease.token}").context["lease_token"] == ""


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/login/"])
def test_public_pages(client, db, path):
    assert client.get(path).status_code == 200


def test_openapi_publishes_each_kinds_annotation_schema_and_the_export_formats(client, db):
    schema = client.get("/api/schema/?format=json").json()
    revision = schema["components"]["schemas"]["RevisionSubmitRequest"]["properties"]["annotation"]
    assert {s["title"] for s in revision["oneOf"]} == {"catheter annotation", "articles annotation", "omr annotation"}
    catheter = next(s for s in revision["oneOf"] if s["title"] == "catheter annotation")
    defect = catheter["properties"]["shots"]["items"]["properties"]["defects"]["items"]
    assert defect["required"] == ["type", "box"] and set(defect["properties"]) >= {"polygon", "polyline", "point", "id"}
    (export,) = [p for p in schema["paths"]["/api/v1/projects/{id}/export/"]["get"]["parameters"]
                 if p["name"] == "format"]
    assert set(export["schema"]["enum"]) == {"jsonl", "coco", "verdicts", "pagexml", "alignments", "deepscores"}


def test_take_next_with_the_item_and_the_one_likely_next(make_project, make_item, operator, make_user, api_for):
    project = make_project(queue_policy="fifo")
    first, second, third = make_item(project), make_item(project), make_item(project)
    api = api_for(operator)
    queries = []  # counted where they run (the request may reconnect: CaptureQueriesContext would miss them)
    with connection.execute_wrapper(lambda run, sql, *args: queries.append(sql) or run(sql, *args)):
        taken = api.post(f"/api/v1/projects/{project.pk}/take-next/?expand=item")
    body = taken.json()
    assert taken.status_code == 200 and body["item"] == first.pk
    # the item as GET /items/{id}/ gives it, with the caller's lease in it
    plain = api.get(f"/api/v1/items/{first.pk}/").json()
    assert body["detail"] == plain and body["detail"]["lease"]["token"] == body["token"]
    assert len(queries) <= 18, queries  # the take and the item; none grows with the queue
    # the item take-next would give next, with what the viewer opens first; nothing is taken
    up = api.get(f"/api/v1/projects/{project.pk}/up-next/")
    assert up.status_code == 200 and up.json()["item"] == second.pk
    assert up.json()["assets"] == api.get(f"/api/v1/items/{second.pk}/").json()["assets"]
    assert WorkItem.objects.get(pk=second.pk).state != ItemState.LEASED
    # someone else takes the second: the guess moves on to the third, then there is none
    api_for(make_user()).post(f"/api/v1/projects/{project.pk}/take-next/")
    assert api.get(f"/api/v1/projects/{project.pk}/up-next/").json()["item"] == third.pk
    api.post(f"/api/v1/items/{first.pk}/revisions/", {"annotation": DEFECT, "base_revision": None}, format="json")
    assert api.post(f"/api/v1/projects/{project.pk}/take-next/?expand=item").json()["item"] == third.pk
    assert api.get(f"/api/v1/projects/{project.pk}/up-next/").status_code == 204
    # without expand the answer is the lease alone, as before; a wrong expand is named
    assert "detail" not in api.post(f"/api/v1/projects/{project.pk}/take-next/").json()
    wrong = api.post(f"/api/v1/projects/{project.pk}/take-next/?expand=everything")
    assert wrong.status_code == 400 and "expand" in wrong.json()


def test_up_next_with_the_item_takes_nothing_and_respects_skips(make_project, make_item, operator, make_user,
                                                                  api_for):
    project = make_project(queue_policy="fifo")
    first, second = make_item(project), make_item(project)
    api = api_for(operator)
    up = api.get(f"/api/v1/projects/{project.pk}/up-next/?expand=item")
    body = up.json()
    # the item as GET /items/{id}/ gives it, without a lease: nothing is taken, by anyone
    assert up.status_code == 200 and body["item"] == first.pk
    assert body["detail"] == api.get(f"/api/v1/items/{first.pk}/").json() and body["detail"]["lease"] is None
    assert WorkItem.objects.get(pk=first.pk).state != ItemState.LEASED
    assert not Lease.objects.filter(item__project=project).exists()
    assert "detail" not in api.get(f"/api/v1/projects/{project.pk}/up-next/").json()
    # the guess follows take-next's exclusions: an item skipped within the cool-down is not offered again
    taken = api.post(f"/api/v1/projects/{project.pk}/take-next/").json()
    assert taken["item"] == first.pk
    assert api.get(f"/api/v1/projects/{project.pk}/up-next/?expand=item").json()["item"] == second.pk
    assert api.post(f"/api/v1/items/{first.pk}/skip/").status_code == 204
    assert api.get(f"/api/v1/projects/{project.pk}/up-next/?expand=item").json()["item"] == second.pk
    assert api.post(f"/api/v1/projects/{project.pk}/take-next/").json()["item"] == second.pk
    assert api.get(f"/api/v1/projects/{project.pk}/up-next/?expand=item").status_code == 204
    # a wrong expand is named; someone outside the project gets nothing
    wrong = api.get(f"/api/v1/projects/{project.pk}/up-next/?expand=everything")
    assert wrong.status_code == 400 and "expand" in wrong.json()
    outsider = api_for(make_user(member=False))
    assert outsider.get(f"/api/v1/projects/{project.pk}/up-next/?expand=item").status_code in (403, 404)
