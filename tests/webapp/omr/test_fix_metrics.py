"""An OMR answer's figures stored with its revision: computed by the server at submit (from the answer, the
proposal and the worker's recompute of exactly the submitted homography), never taken from the client, and
returned by the item, revisions and diff APIs; older revisions and other kinds say null (not recorded)."""
import pytest
from django.core.cache import cache

from webapp.labeling.models import Revision
from webapp.labeling.services import prediction_record
from webapp.mlops.services import model_version_register
from webapp.omr.selectors import homography_key
from webapp.omr.services import alignment_recompute_store

pytestmark = pytest.mark.django_db
PROPOSAL_H = [[1.0, 0.0, 5.0], [0.0, 1.0, 3.0], [0.0, 0.0, 1.0]]
FIX_H = [[1.0, 0.0, 9.0], [0.0, 1.0, 3.0], [0.0, 0.0, 1.0]]            # the page moved 4 px to the right
PAIRS = [[[10, 10], [19, 13]], [[700, 10], [709, 13]], [[700, 500], [709, 503]], [[10, 500], [19, 504]]]
SYMBOLS = [{"class": "noteheadBlack", "bbox": [100, 100, 110, 110]}, {"class": "clefG", "bbox": [20, 40, 40, 90]}]
WORKER_METRICS = {"inliers": 412, "inlier_ratio": 0.81, "reproj_median": 0.62, "coverage": 0.9, "ncc_median": 0.74,
                  "ncc_min": 0.55, "system_shift_max": 0.8, "cell_bias_max": 0.4, "visible_share": 1.0,
                  "operator_residual_max": 1.0}
PROPOSAL_METRICS = {"inliers": 35, "inlier_ratio": 0.2, "ncc_median": 0.31}
FAKE = {"alignment_source": "recompute", "alignment": {"inliers": 99999}, "corner_shift_max": 0.0, "verdict": "accept"}


@pytest.fixture
def omr_item(make_project, make_item):
    project = make_project("omr", scope_key="piece:metrics")
    item = make_item(project, meta={"symbols": SYMBOLS})
    for h in (PROPOSAL_H, FIX_H):   # a rolled-back test's item id comes again: its cached results go with it
        cache.delete(homography_key(item_id=item.pk, homography=h))
    version = model_version_register(kind="omr", scope_key="piece:metrics", artifact_uri="omr/v")
    prediction, _ = prediction_record(
        item_id=item.pk, model_version_id=version.pk, uncertainty=0.6,
        payload={"status": "rejected", "homography": PROPOSAL_H, "point_pairs": [], "reasons": ["page curl"]},
        scores={"verdict": "review", "reasons": ["page curl"], "metrics": PROPOSAL_METRICS})
    return project, item, prediction


def _submit(api, project, item, prediction, annotation, **extra):
    assert api.post(f"/api/v1/projects/{project.pk}/take-next/").json()["item"] == item.pk
    return api.post(f"/api/v1/items/{item.pk}/revisions/", {"annotation": annotation, "base_revision": None,
                                                            "from_prediction": prediction.pk, **extra}, format="json")


def test_a_fix_stores_what_the_server_measured_and_ignores_the_clients_numbers(omr_item, operator, reviewer, api_for):
    project, item, prediction = omr_item
    # what the infer worker stores for the operator's recompute (its refined homography, metrics and verdict)
    alignment_recompute_store(item_id=item.pk, request_id="r-1", result={
        "state": "done", "homography": FIX_H, "verdict": "accept", "reasons": [], "metrics": WORKER_METRICS})
    api = api_for(operator)
    fixed = {"status": "fixed", "homography": FIX_H, "point_pairs": PAIRS, "reasons": [], "metrics": FAKE}
    res = _submit(api, project, item, prediction, fixed, metrics=FAKE)
    assert res.status_code == 201, res.content
    stored = Revision.objects.get(item=item, number=1).metrics
    assert res.json()["metrics"] == stored
    assert "metrics" not in Revision.objects.get(item=item, number=1).annotation
    assert stored["alignment_source"] == "recompute" and stored["alignment"] == WORKER_METRICS
    assert stored["verdict"] == "accept" and stored["status"] == "fixed"
    assert stored["corner_shift_max"] == 4.0                       # every corner moved 4 px
    assert stored["symbols"] == 2 and stored["symbols_moved"] == 2 and stored["symbol_shift_max"] == 4.0
    assert stored["point_pairs"] == 4 and stored["operator_residual_max"] == 1.0
    assert stored["operator_residual_median"] == 0.0
    assert stored["proposal"] == {"prediction": prediction.pk, "verdict": "review", "status": "rejected"}

    seen = api_for(reviewer)
    assert seen.get(f"/api/v1/items/{item.pk}/").json()["current"]["metrics"] == stored
    assert seen.get(f"/api/v1/items/{item.pk}/revisions/").json()[0]["metrics"] == stored
    assert seen.get(f"/api/v1/items/{item.pk}/diff/").json()["metrics"] == stored


def test_a_fix_whose_homography_the_server_never_measured_records_no_alignment(omr_item, operator, api_for):
    project, item, prediction = omr_item
    alignment_recompute_store(item_id=item.pk, request_id="r-2", result={
        "state": "done", "homography": PROPOSAL_H, "verdict": "accept", "reasons": [], "metrics": WORKER_METRICS})
    other_h = [[1.0, 0.0, 9.5], [0.0, 1.0, 3.0], [0.0, 0.0, 1.0]]   # e.g. the client's own numbers
    res = _submit(api_for(operator), project, item, prediction,
                  {"status": "fixed", "homography": other_h, "point_pairs": PAIRS, "reasons": []})
    assert res.status_code == 201, res.content
    m = res.json()["metrics"]
    assert m["alignment_source"] is None and m["alignment"] is None and m["verdict"] is None
    assert m["corner_shift_max"] == 4.5 and m["symbols_moved"] == 2


def test_accepting_the_proposal_keeps_the_proposals_own_metrics(omr_item, operator, api_for):
    project, item, prediction = omr_item
    res = _submit(api_for(operator), project, item, prediction,
                  {"status": "accepted", "homography": PROPOSAL_H, "point_pairs": [], "reasons": []})
    m = res.json()["metrics"]
    assert m["alignment_source"] == "proposal" and m["alignment"] == PROPOSAL_METRICS and m["verdict"] == "review"
    assert m["corner_shift_max"] == 0.0 and m["symbols_moved"] == 0 and m["operator_residual_max"] is None


def test_revisions_without_metrics_say_null(omr_item, make_project, make_item, operator, reviewer, api_for):
    project, item, prediction = omr_item
    _submit(api_for(operator), project, item, prediction,
            {"status": "rejected", "homography": None, "point_pairs": [], "reasons": ["blur"]})
    Revision.objects.filter(item=item).update(metrics=None)        # as a revision written before they existed
    seen = api_for(reviewer)
    assert seen.get(f"/api/v1/items/{item.pk}/").json()["current"]["metrics"] is None
    assert seen.get(f"/api/v1/items/{item.pk}/diff/").json()["metrics"] is None
    catheter = make_project("catheter")
    other = make_item(catheter)
    api = api_for(operator)
    api.post(f"/api/v1/projects/{catheter.pk}/take-next/")
    res = api.post(f"/api/v1/items/{other.pk}/revisions/", {"annotation": {"verdict": "ok", "shots": [{"defects": []}]},
                                                            "base_revision": None, "metrics": FAKE}, format="json")
    assert res.status_code == 201 and res.json()["metrics"] is None


def test_openapi_says_what_the_stored_metrics_hold_and_that_they_may_be_null(client):
    schema = client.get("/api/schema/?format=json").json()
    field = schema["components"]["schemas"]["Revision"]["properties"]["metrics"]
    assert field["nullable"] is True and field["readOnly"] is True
    (omr,) = field["oneOf"]
    assert omr["title"] == "omr revision metrics"
    assert {"alignment", "alignment_source", "corner_shift_max", "symbols_moved", "verdict"} <= set(omr["required"])
    assert omr["properties"]["alignment_source"]["nullable"] is True
    assert "metrics" not in schema["components"]["schemas"]["RevisionSubmitRequest"]["properties"]
