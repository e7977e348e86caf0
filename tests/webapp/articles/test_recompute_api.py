"""POST /api/v1/items/<id>/articles/recompute/: snapped cuts and articles from the page geometry the
prediction stored; bad input answers 400 naming the field, and nothing is stored."""
import pytest

from webapp.labeling.models import Draft, Revision
from webapp.labeling.services import prediction_record
from webapp.mlops.services import model_version_register

GEOMETRY = {"frame": [50, 60, 750, 560], "gutters": [300, 550], "rules": [[300, 300, 750, 300]]}
V1 = {"x0": 300, "y0": 60, "x1": 300, "y1": 560}


@pytest.fixture
def page_item(make_project, make_item):
    project = make_project(kind="articles", scope_key="publisher:daily-courier")
    item = make_item(project)  # an 800 x 600 page
    version = model_version_register(kind="articles", scope_key=project.scope_key, artifact_uri="articles/v")
    prediction_record(item_id=item.pk, model_version_id=version.pk, uncertainty=0.5,
                      payload={"page_type": "article", "cuts": [V1], "articles": []},
                      scores={"tau": 0.4, "geometry": GEOMETRY,
                              "candidates": [{**V1, "confidence": 0.8}]})
    return item


def url(item):
    return f"/api/v1/items/{item.pk}/articles/recompute/"


@pytest.mark.django_db
def test_a_drawn_cut_is_snapped_and_the_articles_follow(page_item, operator, api_for):
    api = api_for(operator)
    drawn = {"x0": 545, "y0": 70, "x1": 553, "y1": 296}   # askew, near the gutter at 550 and the rule at 300
    res = api.post(url(page_item), {"cuts": [V1, drawn], "snap": [1]}, format="json")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["cuts"][1] == {"x0": 550.0, "y0": 60.0, "x1": 550.0, "y1": 300.0}
    assert body["snapped"] == [{"index": 1, "to": ["axis", "gutter", "end:frame", "end:rule"]}]
    # the drawn cut ends on the rule, which is no cut: it separates nothing yet
    assert [a["id"] for a in body["articles"]] == ["a1", "a2"]
    assert body["geometry"]["gutters"] == [300.0, 550.0]
    # merging: the two articles the first cut separates become one
    merged = api.post(url(page_item), {"cuts": [V1], "articles": body["articles"], "merge": ["a1", "a2"]},
                      format="json").json()
    assert merged["cuts"] == [] and len(merged["articles"]) == 1
    assert merged["articles"][0]["polygon"] == [[50, 60], [750, 60], [750, 560], [50, 560]]
    assert not Revision.objects.exists() and not Draft.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body, field", [
    ({"cuts": [{"x0": 10, "y0": 10, "x1": 10}]}, "$.cuts[0](x1,y1)"),
    ({"cuts": [{"x0": 10, "y0": 10, "x1": 9000, "y1": 10}]}, "$.cuts[0](x1,y1)"),
    ({"cuts": "everything"}, "cuts"),
    ({"cuts": [V1], "snap": [3]}, "snap[0]"),
    ({"cuts": [V1], "snap": ["first"]}, "snap"),
    ({"cuts": [V1], "articles": [{"id": "a1", "polygon": [[0, 0], [1, 1]]}]}, "$.articles[0].polygon"),
    ({"cuts": [V1], "articles": [], "merge": ["a1"]}, "merge"),
    ({"cuts": [V1], "articles": [], "merge": ["a1", "a2"]}, "merge[0]"),
    ({}, "cuts"),
    ({"cuts": [{"x0": 60 + k, "y0": 70, "x1": 60 + k, "y1": 80 + k} for k in range(501)]}, "cuts"),  # a comb
])
def test_bad_input_is_refused_naming_the_field(page_item, operator, api_for, body, field):
    res = api_for(operator).post(url(page_item), body, format="json")
    assert res.status_code == 400, res.content
    text = res.content.decode()
    assert field in text, text


@pytest.mark.django_db
def test_without_a_prediction_the_whole_page_is_the_frame(make_project, make_item, operator, api_for):
    item = make_item(make_project(kind="articles"))
    res = api_for(operator).post(url(item), {"cuts": [{"x0": 400, "y0": 0, "x1": 402, "y1": 600}], "snap": [0]},
                                 format="json").json()
    assert res["cuts"] == [{"x0": 401.0, "y0": 0.0, "x1": 401.0, "y1": 600.0}]
    assert len(res["articles"]) == 2 and res["geometry"]["frame"] == [0.0, 0.0, 800.0, 600.0]


@pytest.mark.django_db
def test_another_kind_of_item_is_refused(make_project, make_item, operator, api_for):
    item = make_item(make_project(kind="catheter"))
    res = api_for(operator).post(url(item), {"cuts": []}, format="json")
    assert res.status_code == 400 and "not a newspaper page" in res.json()["detail"]
