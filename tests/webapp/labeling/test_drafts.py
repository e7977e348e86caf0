"""Drafts: saved per (item, operator) under the lease, validated like a revision, removed by the submit,
never exported or trained on."""
import json

from webapp.labeling.models import Draft, Revision

DEFECT = {"verdict": "defect", "shots": [{"defects": [
    {"type": "axial_scratch", "box": [10, 10, 60, 200], "polyline": [[10, 10], [60, 200]], "id": "d1"}]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}]}


def _take(api, project):
    taken = api.post(f"/api/v1/projects/{project.pk}/take-next/")
    assert taken.status_code == 200, taken.content
    return taken.json()


def test_draft_round_trip_and_detail(make_project, make_item, operator, api_for):
    project = make_project()
    item = make_item(project)
    api = api_for(operator)
    assert api.get(f"/api/v1/items/{item.pk}/draft/").status_code == 404
    lease = _take(api, project)
    saved = api.put(f"/api/v1/items/{item.pk}/draft/", {"annotation": DEFECT, "base_revision": None}, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["annotation"] == DEFECT and saved.json()["base_revision"] is None
    again = api.put(f"/api/v1/items/{item.pk}/draft/", {"annotation": OK, "base_revision": None}, format="json")
    assert again.status_code == 200 and Draft.objects.count() == 1          # overwritten, not appended
    got = api.get(f"/api/v1/items/{item.pk}/draft/").json()
    assert got["annotation"] == OK and got["from_prediction"] is None and got["updated_at"]
    detail = api.get(f"/api/v1/items/{item.pk}/").json()
    assert detail["draft"]["annotation"] == OK
    assert detail["lease"]["token"] == lease["token"] and detail["lease"]["expires_at"]
    assert Revision.objects.count() == 0                                      # a draft is never a revision
    assert api.delete(f"/api/v1/items/{item.pk}/draft/").status_code == 204
    assert api.get(f"/api/v1/items/{item.pk}/draft/").status_code == 404


def test_drafts_are_private(make_project, make_item, operator, make_user, api_for):
    project = make_project()
    item = make_item(project)
    api = api_for(operator)
    _take(api, project)
    api.put(f"/api/v1/items/{item.pk}/draft/", {"annotation": DEFECT, "base_revision": None}, format="json")
    other = api_for(make_user("reviewer"))
    assert other.get(f"/api/v1/items/{item.pk}/draft/").status_code == 404
    detail = other.get(f"/api/v1/items/{item.pk}/").json()
    assert detail["draft"] is None and detail["lease"] is None


def test_draft_needs_the_callers_lease(make_project, make_item, operator, make_user, api_for):
    project = make_project()
    item = make_item(project)
    api = api_for(operator)
    refused = api.put(f"/api/v1/items/{item.pk}/draft/", {"annotation": DEFECT, "base_revision": None}, format="json")
    assert refused.status_code == 409 and "lease" in refused.json()["detail"]
    _take(api, project)
    intruder = api_for(make_user("operator"))
    assert intruder.put(f"/api/v1/items/{item.pk}/draft/", {"annotation": DEFECT, "base_revision": None},
                        format="json").status_code == 409
    assert Draft.objects.count() == 0


def test_bad_drafts_are_refused_naming_the_field_and_nothing_is_stored(make_project, make_item, operator, api_for):
    project = make_project()
    item = make_item(project)   # one 800 x 600 shot
    api = api_for(operator)
    _take(api, project)
    api.put(f"/api/v1/items/{item.pk}/draft/", {"annotation": OK, "base_revision": None}, format="json")

    def put(annotation, **extra):
        return api.put(f"/api/v1/items/{item.pk}/draft/", {"annotation": annotation, "base_revision": None, **extra},
                       format="json")

    outside = put({"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [1, 1, 9, 9],
                                                                "point": [5, 900]}]}]})
    assert outside.status_code == 400 and outside.json()["code"] == "invalid_annotation"
    assert outside.json()["errors"][0]["path"] == "$.shots[0].defects[0].point"
    unknown = put({"verdict": "defect", "shots": [{"defects": [{"type": "crack", "box": [1, 1, 9, 9]}]}]})
    assert unknown.json()["errors"][0]["path"] == "$.shots[0].defects[0].type"
    # JSON has no NaN, but Python's json writes one: refused by the validator, naming the number.
    nan_body = ('{"annotation": {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", '
                '"box": [1, 1, NaN, 9]}]}]}, "base_revision": null}')
    nan = api.put(f"/api/v1/items/{item.pk}/draft/", nan_body, content_type="application/json")
    assert nan.status_code == 400, nan.content
    assert nan.json().get("errors", [{}])[0].get("path") == "$.shots[0].defects[0].box[2]", nan.content
    null = put({"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [1, None, 9, 9]}]}]})
    assert null.json()["errors"][0]["path"] == "$.shots[0].defects[0].box[1]"
    missing = api.put(f"/api/v1/items/{item.pk}/draft/", {"annotation": OK}, format="json")
    assert missing.status_code == 400 and "base_revision" in missing.json()
    wrong_prediction = put(OK, from_prediction=987654)
    assert wrong_prediction.status_code == 404
    assert Draft.objects.get().annotation == OK


def test_submit_removes_the_draft_and_a_failed_submit_keeps_it(make_project, make_item, operator, api_for):
    project = make_project(review_required=False)
    item = make_item(project)
    api = api_for(operator)
    _take(api, project)
    api.put(f"/api/v1/items/{item.pk}/draft/", {"annotation": DEFECT, "base_revision": None}, format="json")
    bad = api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": {"verdict": "maybe"}, "base_revision": None},
                   format="json")
    assert bad.status_code == 400 and Draft.objects.count() == 1
    stale = api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": DEFECT, "base_revision": 3}, format="json")
    assert stale.status_code == 409 and Draft.objects.count() == 1
    done = api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": DEFECT, "base_revision": None}, format="json")
    assert done.status_code == 201 and Draft.objects.count() == 0


def test_drafts_never_reach_exports(make_project, make_item, operator, api_for):
    project = make_project(review_required=False)
    accepted, drafted = make_item(project), make_item(project)
    api = api_for(operator)
    _take(api, project)   # the first item in the queue
    api.post(f"/api/v1/items/{accepted.pk}/revisions/", {"annotation": OK, "base_revision": None}, format="json")
    assert _take(api, project)["item"] == drafted.pk
    api.put(f"/api/v1/items/{drafted.pk}/draft/", {"annotation": DEFECT, "base_revision": None}, format="json")
    def export(fmt):
        return b"".join(api.get(f"/api/v1/projects/{project.pk}/export/?format={fmt}").streaming_content).decode()

    lines = export("jsonl").strip().splitlines()
    assert len(lines) == 1 and str(accepted.pk) in lines[0] and "axial_scratch" not in lines[0]
    coco = json.loads(export("coco"))
    assert coco["annotations"] == [] and len(coco["images"]) == 1


def test_a_revision_with_a_nan_is_refused_naming_the_field(make_project, make_item, operator, api_for):
    project = make_project()
    item = make_item(project)
    api = api_for(operator)
    _take(api, project)
    body = ('{"annotation": {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [1, 1, 9, 9], '
            '"polygon": [[1, 1], [9, 1], [Infinity, 9]]}]}]}, "base_revision": null}')
    refused = api.post(f"/api/v1/items/{item.pk}/revisions/", body, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "$.shots[0].defects[0].polygon[2][0]"
    assert Revision.objects.count() == 0


def test_a_draft_mid_edit_is_kept_though_not_yet_a_finished_answer(make_project, make_item, operator, api_for):
    # Verdict set before anything is drawn (catheter), one point pair of a fix (OMR), a page typed as ads
    # before its articles are removed (articles): saved as drafts, refused as revisions.
    unfinished = {
        "catheter": {"verdict": "defect", "shots": [{"defects": []}]},
        "omr": {"status": "fixed", "point_pairs": [[[10, 10], [12, 11]]], "reasons": []},
        "articles": {"page_type": "ads", "cuts": [], "articles": [
            {"id": "a1", "polygon": [[10, 10], [300, 10], [300, 300], [10, 300]]}]},
    }
    api = api_for(operator)
    for kind, annotation in unfinished.items():
        project = make_project(kind)
        item = make_item(project)
        _take(api, project)
        saved = api.put(f"/api/v1/items/{item.pk}/draft/", {"annotation": annotation, "base_revision": None},
                        format="json")
        assert saved.status_code == 200, (kind, saved.content)
        assert api.get(f"/api/v1/items/{item.pk}/draft/").json()["annotation"] == saved.json()["annotation"]
        submitted = api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": annotation, "base_revision": None},
                             format="json")
        assert submitted.status_code == 400, (kind, submitted.content)
        assert Draft.objects.filter(item=item).exists()
