"""My work: items done, median time from lease to submit, edits per item, sent-back share."""
from datetime import timedelta

from django.utils import timezone

from webapp.labeling.models import Lease, Revision

DEFECT = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [5, 5, 25, 25], "point": [15, 15]}]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}]}


def _do(api, project, annotation, seconds):
    taken = api.post(f"/api/v1/projects/{project.pk}/take-next/").json()
    Lease.objects.filter(token=taken["token"]).update(created_at=timezone.now() - timedelta(seconds=seconds))
    assert api.post(f"/api/v1/items/{taken['item']}/revisions/", {"annotation": annotation, "base_revision": None},
                    format="json").status_code == 201
    return taken["item"]


def test_my_work_figures_and_page(client, make_project, make_item, operator, reviewer, make_user, api_for):
    project = make_project(queue_policy="fifo")
    for _ in range(3):
        make_item(project)
    api = api_for(operator)
    empty = api.get("/api/v1/me/work/").json()
    assert empty["today"] == {"items": 0, "revisions": 0, "median_seconds": None, "edits_per_item": None,
                              "reviewed": 0, "sent_back_share": None}
    first = _do(api, project, DEFECT, 100)     # 1 defect added + the verdict: 2 edits
    second = _do(api, project, OK, 40)         # the verdict only: 1 edit
    third = _do(api, project, OK, 10)
    old = Revision.objects.get(item_id=third)  # submitted "last month": outside both periods
    Revision.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    review = api_for(reviewer)
    review.post(f"/api/v1/items/{first}/reviews/", {"decision": "send_back", "comment": "the bubble is a glare"},
                format="json")
    review.post(f"/api/v1/items/{second}/reviews/", {"decision": "accept"}, format="json")

    today = api.get("/api/v1/me/work/").json()["today"]
    assert today["items"] == 2 and today["reviewed"] == 2 and today["sent_back_share"] == 0.5
    assert today["edits_per_item"] == 1.5
    assert 69 <= today["median_seconds"] <= 75     # median of ~100 s and ~40 s
    assert api.get("/api/v1/me/work/").json()["week"]["items"] == 2
    assert api_for(make_user()).get("/api/v1/me/work/").json()["today"]["items"] == 0   # one's own figures only

    client.force_login(operator)
    page = client.get("/me/work/").content.decode()
    assert 'id="my-work"' in page and "50% of 2 reviewed" in page and 'href="/me/work/"' in page
