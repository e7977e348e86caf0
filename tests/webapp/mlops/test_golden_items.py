"""A disagreeing golden item side by side: the golden truth, the champion's proposal (its ordinary
prediction) and the candidate's (made for the comparison, never the operators' proposal), each version's
per-item figures, and next / previous over the items the two disagree on."""
import json
import re

import pytest

from tests.webapp.mlops.golden import evaluation
from webapp.labeling.services import lease_take_next, prediction_record, revision_submit
from webapp.mlops.models import GoldenProposal
from webapp.mlops.services import champion_promote, model_version_register
from webapp.mlops.services_golden import golden_proposals_store

pytestmark = pytest.mark.django_db
OK = {"verdict": "ok", "shots": [{"defects": []}]}
BUBBLE = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [4, 4, 20, 20]}]}]}


@pytest.fixture
def golden(make_project, make_item, make_user):
    admin = make_user("admin", username="ada")
    author = make_user("operator")
    project = make_project("catheter", scope_key="line:G", review_required=False)
    items = [make_item(project) for _ in range(3)]
    for item in items:   # the golden truth: an accepted answer, a defect on every item
        assert lease_take_next(project_id=project.pk, user=author).item_id == item.pk
        revision_submit(item_id=item.pk, user=author, annotation=BUBBLE, base_revision=None)
    ids = [i.pk for i in items]
    # the champion misses the first two, the candidate finds every defect: they disagree on two items
    champ = evaluation({ids[0]: ("defect:bubble", 1, 0.2), ids[1]: ("defect:bubble", 1, 0.4),
                        ids[2]: ("defect:bubble", 1, 0.9)})
    cand = evaluation({i: ("defect:bubble", 1, 0.8) for i in ids})
    champion = model_version_register(kind="catheter", scope_key="line:G", artifact_uri="/m/1", metrics=champ)
    champion_promote(version_id=champion.pk, actor=admin, reason="first")
    candidate = model_version_register(kind="catheter", scope_key="line:G", artifact_uri="/m/2",
                                       metrics={**cand, "champion": {"version": champion.pk, **champ}})
    prediction_record(item_id=ids[0], model_version_id=champion.pk, payload=OK, scores={}, uncertainty=0.2)
    return admin, items, champion, candidate


def _data(html: str) -> dict:
    found = re.search(r'<script id="golden-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_the_compare_page_links_each_disagreeing_item_to_its_side_by_side(golden, client):
    admin, items, champion, candidate = golden
    client.force_login(admin)
    html = client.get(f"/models/{candidate.pk}/compare/").content.decode()
    for item in items[:2]:
        assert f'href="/models/{candidate.pk}/compare/items/{item.pk}/?against={champion.pk}"' in html
    assert f'href="/models/{candidate.pk}/compare/items/{items[2].pk}/' not in html   # they agree on it


def test_truth_both_proposals_and_each_versions_figures(golden, client, api_for, make_user):
    admin, items, champion, candidate = golden
    client.force_login(admin)
    first, second = (f"/models/{candidate.pk}/compare/items/{i.pk}/?against={champion.pk}" for i in items[:2])
    res = client.get(first)
    assert res.status_code == 200
    data = _data(res.content.decode())
    assert data["truth"] == BUBBLE and data["kind"] == "catheter"
    champ, cand = data["sides"]
    assert champ["role"] == "champion" and champ["version"] == champion.pk
    assert champ["proposal"] == {"payload": OK, "scores": {}, "source": "prediction"}
    assert cand["role"] == "candidate" and cand["proposal"] is None          # not made yet: the page offers to ask
    assert champ["figures"]["value"] == 0.0 and cand["figures"]["value"] == 1.0 and cand["figures"]["score"] == 0.8
    html = res.content.decode()
    assert 'id="golden-request"' in html and "not made yet" in html
    # the two disagree on items 1 and 2, largest difference first: from the first, next is the second
    assert data["next"] == second and data["previous"] is None
    assert _data(client.get(second).content.decode())["previous"] == first

    # the worker's proposal for the candidate is kept apart: the operators' proposal stays the champion's
    outcome = golden_proposals_store(version_id=candidate.pk, rows=[
        {"item_id": items[0].pk, "payload": BUBBLE, "scores": {"verdict_score": 0.8}},
        {"item_id": items[1].pk, "payload": {"verdict": "maybe"}, "scores": {}}])
    assert outcome == {"stored": [items[0].pk], "failed": [items[1].pk]}   # invalid output is refused, not stored
    assert GoldenProposal.objects.filter(version=candidate).count() == 1
    cand = _data(client.get(first).content.decode())["sides"][1]
    assert cand["proposal"] == {"payload": BUBBLE, "scores": {"verdict_score": 0.8}, "source": "golden"}
    detail = api_for(admin).get(f"/api/v1/items/{items[0].pk}/").json()
    assert detail["prediction"]["payload"] == OK
    # a second store of the same item keeps the first
    golden_proposals_store(version_id=candidate.pk, rows=[{"item_id": items[0].pk, "payload": OK, "scores": {}}])
    assert GoldenProposal.objects.get(version=candidate, item=items[0]).payload == BUBBLE


def test_asking_for_missing_proposals_and_bad_addresses(golden, client, make_project, make_item, make_user):
    admin, items, champion, candidate = golden
    client.force_login(admin)
    url = f"/models/{candidate.pk}/compare/items/{items[1].pk}/proposals/"
    res = client.post(url)
    assert res.status_code == 302
    assert res["Location"].endswith(f"/compare/items/{items[1].pk}/?against={champion.pk}&requested=1")
    assert "golden-requested" in client.get(res["Location"]).content.decode()
    other = make_item(make_project("articles"))
    assert client.get(f"/models/{candidate.pk}/compare/items/{other.pk}/").status_code == 404   # another kind
    assert client.get(f"/models/{candidate.pk}/compare/items/999999/").status_code == 404
    assert client.get(f"/models/{candidate.pk}/compare/items/{items[0].pk}/?against=x").status_code == 400
    reviewer = make_user("reviewer")
    client.force_login(reviewer)
    assert client.post(url).status_code == 403
