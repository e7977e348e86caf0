"""Skip and flag: the lease ends; a skipped item waits out a cool-down for its skipper only; a flagged
item leaves the queue (state "flagged", counted in the depths) until a reviewer resolves the flag."""
from webapp.labeling.models import Flag, ItemState, Lease, WorkItem
from webapp.labeling.selectors import queue_depth


def _take(api, project):
    return api.post(f"/api/v1/projects/{project.pk}/take-next/")


def test_skip_returns_the_item_to_others_but_not_to_the_skipper(make_project, make_item, operator, make_user, api_for):
    project = make_project(queue_policy="fifo")
    first, second = make_item(project), make_item(project)
    api = api_for(operator)
    assert _take(api, project).json()["item"] == first.pk
    assert api.post(f"/api/v1/items/{first.pk}/skip/").status_code == 204
    first.refresh_from_db()
    assert first.state == ItemState.NEW and first.lease_holder is None
    assert Lease.objects.get(item=first).end_reason == Lease.End.SKIPPED
    assert _take(api, project).json()["item"] == second.pk                  # not the skipped one again
    assert api.post(f"/api/v1/items/{second.pk}/skip/").status_code == 204
    assert _take(api, project).status_code == 204                           # both skipped: nothing for me
    assert _take(api_for(make_user()), project).json()["item"] == first.pk  # another operator gets it at once


def test_skip_needs_the_lease(make_project, make_item, operator, make_user, api_for):
    project = make_project()
    item = make_item(project)
    assert api_for(operator).post(f"/api/v1/items/{item.pk}/skip/").status_code == 409
    _take(api_for(operator), project)
    assert api_for(make_user()).post(f"/api/v1/items/{item.pk}/skip/").status_code == 409
    assert api_for(make_user("reviewer")).post("/api/v1/items/987654/skip/").status_code == 404


def test_flag_takes_the_item_out_of_the_queue_until_resolved(make_project, make_item, operator, reviewer, api_for):
    project = make_project()
    item = make_item(project)
    api = api_for(operator)
    _take(api, project)
    flagged = api.post(f"/api/v1/items/{item.pk}/flags/", {"reason": "out_of_distribution", "comment": "odd light"},
                       format="json")
    assert flagged.status_code == 201, flagged.content
    body = flagged.json()
    assert body["reason"] == "out_of_distribution" and body["comment"] == "odd light"
    assert body["author"] == operator.username and body["resolved_at"] is None and body["created_at"]
    item.refresh_from_db()
    assert item.state == ItemState.FLAGGED and item.lease_holder is None
    depth = queue_depth(project_id=project.pk)
    assert depth["flagged"] == 1 and depth["queued"] == 0 and depth["total"] == 1
    assert api.get(f"/api/v1/projects/{project.pk}/").json()["depth"]["flagged"] == 1
    assert _take(api, project).status_code == 204
    detail = api.get(f"/api/v1/items/{item.pk}/").json()
    assert detail["state"] == "flagged" and detail["flag"]["reason"] == "out_of_distribution"
    # Nobody labels a flagged item before the reviewer has looked at it.
    assert api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": {"verdict": "ok", "shots": [{"defects": []}]},
                                                            "base_revision": None}, format="json").status_code == 409

    assert api.get(f"/api/v1/projects/{project.pk}/flags/?open=1").status_code == 403   # reviewers only
    listed = api_for(reviewer).get(f"/api/v1/projects/{project.pk}/flags/?open=1").json()
    assert listed["count"] == 1 and listed["results"][0]["item"] == item.pk
    assert api.post(f"/api/v1/flags/{body['id']}/resolve/", {}, format="json").status_code == 403
    resolved = api_for(reviewer).post(f"/api/v1/flags/{body['id']}/resolve/", {"comment": "it is fine, label it"},
                                      format="json")
    assert (resolved.status_code == 200 and resolved.json()["resolved_at"]
            and resolved.json()["resolved_by"] == reviewer.username)
    item.refresh_from_db()
    assert item.state == ItemState.NEW
    assert api_for(reviewer).get(f"/api/v1/projects/{project.pk}/flags/?open=1").json()["count"] == 0
    assert api_for(reviewer).get(f"/api/v1/projects/{project.pk}/flags/").json()["count"] == 1
    assert api_for(reviewer).post(f"/api/v1/flags/{body['id']}/resolve/", {}, format="json").status_code == 409
    assert _take(api, project).json()["item"] == item.pk


def test_bad_flags_are_refused_naming_the_field(make_project, make_item, operator, api_for):
    project = make_project()
    item = make_item(project)
    api = api_for(operator)
    _take(api, project)
    unknown = api.post(f"/api/v1/items/{item.pk}/flags/", {"reason": "boring"}, format="json")
    assert unknown.status_code == 400 and "reason" in unknown.json()
    other = api.post(f"/api/v1/items/{item.pk}/flags/", {"reason": "other", "comment": "  "}, format="json")
    assert other.status_code == 400 and other.json()["field"] == "comment"
    assert Flag.objects.count() == 0
    assert WorkItem.objects.get(pk=item.pk).state == ItemState.LEASED       # nothing half-done


def test_sent_back_comment_reaches_the_operator(make_project, make_item, operator, reviewer, api_for):
    project = make_project()
    item = make_item(project)
    api = api_for(operator)
    _take(api, project)
    api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": {"verdict": "ok", "shots": [{"defects": []}]},
                                                     "base_revision": None}, format="json")
    assert api.get(f"/api/v1/items/{item.pk}/").json()["sent_back"] is None
    api_for(reviewer).post(f"/api/v1/items/{item.pk}/reviews/",
                           {"decision": "send_back", "comment": "the bubble at the tip"}, format="json")
    assert _take(api, project).json()["item"] == item.pk
    detail = api.get(f"/api/v1/items/{item.pk}/").json()
    assert (detail["sent_back"]["comment"] == "the bubble at the tip"
            and detail["sent_back"]["reviewer"] == reviewer.username)
    assert detail["reviews"][0]["comment"] == "the bubble at the tip"


def test_reviewer_flag_page_lists_and_resolves(client, make_project, make_item, operator, reviewer, api_for):
    project = make_project()
    item = make_item(project, external_id="balloon-7")
    api = api_for(operator)
    _take(api, project)
    flag_id = api.post(f"/api/v1/items/{item.pk}/flags/", {"reason": "unclear_image", "comment": "blurred"},
                       format="json").json()["id"]
    client.force_login(operator)
    assert client.get(f"/projects/{project.slug}/flags/").status_code == 403
    assert client.post(f"/flags/{flag_id}/resolve/").status_code == 403
    client.force_login(reviewer)
    page = client.get(f"/projects/{project.slug}/flags/").content.decode()
    assert "balloon-7" in page and "Unclear image" in page and "blurred" in page
    assert 'data-depth="flagged"' in client.get("/projects/").content.decode()
    done = client.post(f"/flags/{flag_id}/resolve/", {"comment": "sharp enough"})
    assert done.status_code == 302
    assert WorkItem.objects.get(pk=item.pk).state == ItemState.NEW
    assert "No open flags" in client.get(f"/projects/{project.slug}/flags/").content.decode()
    assert "sharp enough" in client.get(f"/projects/{project.slug}/flags/?open=0").content.decode()
