"""Recomputing an alignment from an operator's point pairs: the endpoint checks the pairs against the item's
images (400 naming the field, nothing queued), answers with the pairs' own homography and a request id; the
infer task (run here in process) refines it on the working copies and stores metrics and verdict, which the
result URL then returns. The real worker and the socket event are exercised by the browser test."""
import numpy as np
import pytest
from django.core.cache import cache

from ml.omr.align import alignment_errors
from webapp.omr.selectors import recompute_key
from workers.omr_recompute import omr_recompute

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
MODERATE, CURL = 0, 2   # indices in ml.omr.demo.KIND_CYCLE


def _truth_pairs(pair, shares=((0.1, 0.1), (0.9, 0.1), (0.9, 0.6), (0.1, 0.6)), noise=1.5):
    W, H = pair.original.size
    src = np.array([[sx * W, sy * H] for sx, sy in shares])
    dst = pair.mapping.page_to_photo(src) + np.random.default_rng(1).normal(0, noise, src.shape)
    return [[a.round(2).tolist(), b.round(2).tolist()] for a, b in zip(src, dst)]


def test_bad_pairs_get_400_naming_the_field(make_project, omr_items, operator, api_for, make_item):
    project = make_project("omr")
    (item, _, pair), = omr_items(project, [MODERATE])
    api = api_for(operator)
    url = f"/api/v1/items/{item.pk}/omr/recompute/"
    good = _truth_pairs(pair)
    cases = [({}, "point_pairs", None), ({"point_pairs": good[:3]}, "$.point_pairs", "at least 4"),
             ({"point_pairs": good[:3] + [[[5, 5], [5, 99999]]]}, "$.point_pairs[3][1]", "outside the image"),
             ({"point_pairs": [[[x, x], [x, x]] for x in (10, 20, 30, 40)]}, "$.point_pairs", "one line"),
             ({"point_pairs": good[:3] + [[[5, 5], [None, 4]]]}, "$.point_pairs[3][1][0]", "finite number")]
    for body, field, words in cases:
        res = api.post(url, body, format="json")
        assert res.status_code == 400, (body, res.content)
        data = res.json()
        if words is None:
            assert field in data, data
        else:
            assert any(e["path"] == field and words in e["message"] for e in data["errors"]), data
    # NaN is not JSON: a client that sends it anyway gets a 400, not a server error
    res = api.post(url, '{"point_pairs": [[[NaN, 1], [1, 1]]]}', content_type="application/json")
    assert res.status_code == 400, res.content
    other = make_item(make_project("catheter"))
    res = api.post(f"/api/v1/items/{other.pk}/omr/recompute/", {"point_pairs": good}, format="json")
    assert res.status_code == 400 and "not an omr pair" in res.json()["detail"]


def test_recompute_refines_and_judges_the_operator_points(make_project, omr_items, operator, api_for):
    project = make_project("omr")
    (item, _, pair), (curl_item, _, curl_pair) = omr_items(project, [MODERATE, CURL])
    api = api_for(operator)
    pairs = _truth_pairs(pair)
    res = api.post(f"/api/v1/items/{item.pk}/omr/recompute/", {"point_pairs": pairs}, format="json")
    assert res.status_code == 202, res.content
    body = res.json()
    assert body["state"] == "pending" and len(body["homography"]) == 3 and body["residual_max"] < 1e-3
    result_url = f"/api/v1/items/{item.pk}/omr/recompute/{body['request']}/"
    pending = api.get(result_url)
    assert pending.status_code == 200 and pending.json()["state"] == "pending", (pending.status_code, pending.content)
    assert api.get(f"/api/v1/items/{curl_item.pk}/omr/recompute/{body['request']}/").status_code == 404

    omr_recompute(item.pk, body["request"], pairs)   # what the infer worker runs
    done = api.get(result_url).json()
    assert done["state"] == "done" and done["verdict"] == "accept", done
    assert done["metrics"]["inliers"] > 50 and done["metrics"]["ncc_median"] > 0.5 and done["metrics"]["refined"]
    raw = alignment_errors(np.array(body["homography"]), pair.mapping.page_to_photo, pair.original.size)
    refined = alignment_errors(np.array(done["homography"]), pair.mapping.page_to_photo, pair.original.size)
    assert refined["corner_max"] < 3.0 and refined["corner_max"] < raw["corner_max"], (raw, refined)
    assert len(done["matches"]) > 20

    # the same careful points on a curled page: the recompute still sends it to review
    request = "00000000-0000-4000-8000-000000000000"
    cache.set(recompute_key(request), {"state": "pending", "item": curl_item.pk}, 60)
    omr_recompute(curl_item.pk, request, _truth_pairs(curl_pair, noise=0.0))
    curled = api.get(f"/api/v1/items/{curl_item.pk}/omr/recompute/{request}/").json()
    assert curled["verdict"] == "review" and "page curl" in curled["reasons"], curled
    assert curled["annotation_reasons"] == ["page curl"]
