"""GET /api/v1/items/<id>/diff/: against the proposal, the previous revision, or nothing."""
from webapp.labeling.services import prediction_record
from webapp.mlops.services import model_version_register

SCRATCH = {"type": "axial_scratch", "box": [10, 10, 50, 200], "polyline": [[10, 10], [50, 200]]}
BUBBLE = {"type": "bubble", "box": [300, 300, 320, 320], "point": [310, 310]}


def test_diff_against_proposal_previous_and_empty(make_project, make_item, operator, reviewer, api_for):
    project = make_project(scope_key="line:D")
    item = make_item(project)
    version = model_version_register(kind="catheter", scope_key="line:D", artifact_uri="catheter/v")
    prediction, _ = prediction_record(item_id=item.pk, model_version_id=version.pk, uncertainty=0.5,
                                      payload={"verdict": "defect", "shots": [{"defects": [SCRATCH]}]}, scores={})
    api = api_for(operator)
    assert api.get(f"/api/v1/items/{item.pk}/diff/").status_code == 404          # no revision yet
    api.post(f"/api/v1/projects/{project.pk}/take-next/")
    moved = {**SCRATCH, "box": [14, 10, 54, 200], "polyline": [[14, 10], [54, 200]]}
    saved = api.post(f"/api/v1/items/{item.pk}/revisions/", {
        "annotation": {"verdict": "defect", "shots": [{"defects": [moved, BUBBLE]}]}, "base_revision": None,
        "from_prediction": prediction.pk}, format="json")
    assert saved.status_code == 201, saved.content
    d = api_for(reviewer).get(f"/api/v1/items/{item.pk}/diff/").json()
    assert d["against"] == "proposal" and d["prediction"] == prediction.pk and d["revision"] == 1
    assert d["counts"] == {"added": 1, "removed": 0, "changed": 1}
    assert d["added"][0] == {"shot": 0, **BUBBLE} and d["changed"][0]["after"]["box"] == [14, 10, 54, 200]
    assert d["supported"] is True

    # Sent back; the fix is based on revision 1 (no proposal): against the previous revision.
    api_for(reviewer).post(f"/api/v1/items/{item.pk}/reviews/", {"decision": "send_back", "comment": "no defect"},
                           format="json")
    assert api.post(f"/api/v1/projects/{project.pk}/take-next/").json()["item"] == item.pk
    assert api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": {"verdict": "ok", "shots": [{"defects": []}]},
                                                            "base_revision": 1}, format="json").status_code == 201
    d2 = api.get(f"/api/v1/items/{item.pk}/diff/?revision=2").json()
    assert d2["against"] == "previous" and d2["base"] == 1 and d2["counts"]["removed"] == 2
    assert d2["verdict"] == {"before": "defect", "after": "ok"}
    assert api.get(f"/api/v1/items/{item.pk}/diff/?revision=1").json()["against"] == "proposal"
    bad = api.get(f"/api/v1/items/{item.pk}/diff/?revision=two")
    assert bad.status_code == 400 and "revision" in bad.json()
    assert api.get(f"/api/v1/items/{item.pk}/diff/?revision=9").status_code == 404


def test_diff_against_empty_and_a_kind_without_a_hook(make_project, make_item, operator, api_for, monkeypatch):
    project = make_project(review_required=False)
    item = make_item(project)
    api = api_for(operator)
    api.post(f"/api/v1/projects/{project.pk}/take-next/")
    api.post(f"/api/v1/items/{item.pk}/revisions/",
             {"annotation": {"verdict": "defect", "shots": [{"defects": [SCRATCH]}]}, "base_revision": None},
             format="json")
    d = api.get(f"/api/v1/items/{item.pk}/diff/").json()
    assert d["against"] == "empty" and d["counts"] == {"added": 1, "removed": 0, "changed": 0}

    # a kind without a diff hook: omr's, taken away for this test
    from dataclasses import replace

    from webapp.labeling import kinds

    monkeypatch.setitem(kinds._REGISTRY, "omr", replace(kinds.get_kind("omr"), review_diff=None))
    omr = make_project(kind="omr", review_required=False)
    page = make_item(omr)
    api.post(f"/api/v1/projects/{omr.pk}/take-next/")
    from webapp.labeling.kinds import get_kind
    from webapp.labeling.selectors import item_asset_dims
    empty = get_kind("omr").empty_annotation(item_asset_dims(item_id=page.pk))
    assert api.post(f"/api/v1/items/{page.pk}/revisions/", {"annotation": empty, "base_revision": None},
                    format="json").status_code == 201
    d = api.get(f"/api/v1/items/{page.pk}/diff/").json()
    assert d["supported"] is False and d["counts"] == {"added": 0, "removed": 0, "changed": 0} and "changes" in d
