"""Review by risk: with a sampled share below 1, risky answers go to a reviewer and the rest is accepted without
review (still passing the suspect check); an operator below the control-accuracy floor gets full review until
they recover; every decision is recorded; the settings are validated; default projects review everything."""
import pytest

from webapp.labeling.models import ItemState, ReviewRouting, SuspectLabel, WorkItem
from webapp.labeling.services import lease_take_next, prediction_record, project_update, revision_submit
from webapp.labeling.services.controls import control_mark

DEFECT = {"type": "axial_scratch", "box": [10, 20, 60, 200]}
DEFECTIVE = {"verdict": "defect", "shots": [{"defects": [DEFECT]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}]}


@pytest.fixture
def version(make_project):
    from webapp.mlops.services import model_version_register

    def make(project):
        return model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/srv/m/v1")
    return make


def _predicted(project, make_item, version, defect_scores):
    """Items the model scored: ``defect`` is its probability that the balloon has a defect."""
    model = version(project)
    items = []
    for score in defect_scores:
        item = make_item(project)
        prediction_record(item_id=item.pk, model_version_id=model.pk, payload=DEFECTIVE if score >= 0.5 else OK,
                          uncertainty=round(1 - abs(2 * score - 1), 4), scores={"defect": score})
        items.append(item)
    return items


def _answer_next(project, user, annotation):
    lease = lease_take_next(project_id=project.pk, user=user)
    assert lease is not None
    revision_submit(item_id=lease.item_id, user=user, annotation=annotation, base_revision=None)
    return WorkItem.objects.get(pk=lease.item_id)


def _answer_item(item, user, annotation):
    """Take next and answer: the projects here queue first in, first out, so that is ``item``."""
    answered = _answer_next(item.project, user, annotation)
    assert answered.pk == item.pk
    return answered


@pytest.fixture
def with_controls(make_project, make_item, make_user):
    """A catheter project whose 10 first items an author labelled (accepted, no review then) and an admin
    marked as control items; then review is required and sampled at 0 (only the floor and audits review)."""
    def make(n_controls=10, **settings):
        project = make_project("catheter", review_required=False, queue_policy="fifo")
        author, admin = make_user("operator"), make_user("admin")
        for _ in range(n_controls):
            make_item(project)
        while (lease := lease_take_next(project_id=project.pk, user=author)) is not None:
            revision_submit(item_id=lease.item_id, user=author, annotation=DEFECTIVE, base_revision=None)
            control_mark(item_id=lease.item_id, user=admin)
        return project_update(project=project, review_required=True, **settings)
    return make


def test_review_by_risk_operator_below_the_accuracy_floor_gets_everything_reviewed_until_recovery(
        with_controls, make_item, make_user, version):
    project = with_controls(review_sample_share=0.0, review_full_below_accuracy=0.8, control_rate=1.0)
    careless = make_user("operator")
    for _ in range(2):   # two control items answered wrong: accuracy 0
        copy = _answer_next(project, careless, OK)
        assert copy.control_copy
    project = project_update(project=project, control_rate=0.0)
    items = _predicted(project, make_item, version, [0.02] * 4)   # the model agrees with "ok": low risk
    for item in items:
        _answer_item(item, careless, OK)
    routings = list(ReviewRouting.objects.filter(item__in=items).order_by("id"))
    assert [r.decision for r in routings] == ["review"] * 4
    assert {r.reason for r in routings} == {"operator_below_floor"}
    assert routings[0].parts["operator_accuracy"] == 0.0 and routings[0].parts["operator_answers"] == 2
    assert {WorkItem.objects.get(pk=i.pk).state for i in items} == {ItemState.SUBMITTED}
    # eight right answers on control items: the latest 10 average 0.8, not below the floor any more
    project = project_update(project=project, control_rate=1.0)
    for _ in range(8):
        assert _answer_next(project, careless, DEFECTIVE).control_copy
    project = project_update(project=project, control_rate=0.0)
    later = _predicted(project, make_item, version, [0.02] * 4)
    for item in later:
        _answer_item(item, careless, OK)
    reasons = [r.reason for r in ReviewRouting.objects.filter(item__in=later)]
    assert "operator_below_floor" not in reasons
    # at share 0 only the audit draw reviews: most of them are accepted without review
    assert reasons.count("low_risk") >= 3 and set(reasons) <= {"low_risk", "audit"}


def test_review_by_risk_at_share_0_3_reviews_high_risk_and_accepts_low_risk_with_a_record(
        make_project, make_item, make_user, version):
    project = make_project("catheter", review_sample_share=0.3, queue_policy="fifo")   # review required (the default)
    operator = make_user("operator")
    # The model is confident either way; the operator answers "ok" everywhere: where the model says
    # defect at 0.97 the answer contradicts it (high risk), where it says 0.03 they agree (low risk).
    scores = [0.03] * 6 + [0.97] + [0.03] * 6 + [0.97] + [0.03] * 6 + [0.97]
    items = _predicted(project, make_item, version, scores)
    for item in items:
        _answer_item(item, operator, OK)
    routing = {r.item_id: r for r in ReviewRouting.objects.filter(project=project)}
    assert set(routing) == {i.pk for i in items}            # every decision is on record
    high = [i for i, s in zip(items, scores) if s == 0.97]
    low = [i for i, s in zip(items, scores) if s == 0.03]
    for item in high:
        r = routing[item.pk]
        assert (r.decision, r.reason) == ("review", "risk_in_sample")
        assert r.parts["disagreement"] == pytest.approx(0.97) and r.parts["disagreement_from"] == "model"
        assert WorkItem.objects.get(pk=item.pk).state == ItemState.SUBMITTED
    # the project's first answer is reviewed (no history yet); then low risk is accepted but for audit draws
    later_low = [routing[i.pk] for i in low[1:]]
    assert all(r.reason in ("low_risk", "audit") for r in later_low)
    accepted = [r for r in later_low if r.decision == "accept"]
    assert len(accepted) >= 12
    for r in accepted:
        assert WorkItem.objects.get(pk=r.item_id).state == ItemState.ACCEPTED
        assert r.risk < min(routing[i.pk].risk for i in high)
        assert set(r.parts) >= {"operator", "disagreement", "uncertainty", "weights", "audit_draw"}
        assert r.sample_share == 0.3 and r.operator == operator
    assert not SuspectLabel.objects.filter(item__project=project).exists()


def test_review_by_risk_accepted_without_review_still_passes_the_suspect_check(make_project, make_item, make_user,
                                                                              version):
    project = make_project("catheter", review_sample_share=0.0, queue_policy="fifo")
    operator = make_user("operator")
    items = _predicted(project, make_item, version, [0.97] * 3)
    for item in items:
        _answer_item(item, operator, OK)
    accepted = [i for i in items if WorkItem.objects.get(pk=i.pk).state == ItemState.ACCEPTED]
    assert accepted, "share 0: only an audit draw reviews"
    for item in accepted:
        suspect = SuspectLabel.objects.get(item=item)
        assert suspect.state == "open" and suspect.why["model_says"] == "defect"


def test_review_by_risk_default_project_reviews_everything_as_before(make_project, make_item, operator):
    project = make_project("catheter")
    assert (project.review_required, project.review_sample_share) == (True, 1.0)
    item = make_item(project)
    assert _answer_next(project, operator, OK).state == ItemState.SUBMITTED
    assert not ReviewRouting.objects.filter(item=item).exists()


def test_review_by_risk_queue_is_riskiest_first_with_why(make_project, make_item, make_user, reviewer, api_for,
                                                         version):
    project = make_project("catheter", review_sample_share=0.5, queue_policy="fifo")
    operator = make_user("operator")
    items = _predicted(project, make_item, version, [0.6, 0.97, 0.8])
    for item in items:
        _answer_item(item, operator, OK)
    rows = api_for(reviewer).get(f"/api/v1/projects/{project.pk}/review-queue/").json()
    risks = [row["routing"]["risk"] for row in rows]
    assert len(rows) >= 2 and risks == sorted(risks, reverse=True)
    assert rows[0]["item"] == items[1].pk
    assert "model contradicts the answer with confidence 0.97" in rows[0]["routing"]["why"]
    decisions = api_for(reviewer).get(f"/api/v1/projects/{project.pk}/review-routing/").json()
    assert {d["item"] for d in decisions} == {i.pk for i in items}
    assert api_for(reviewer).get(f"/api/v1/projects/{project.pk}/review-routing/?decision=maybe").status_code == 400
    assert api_for(operator).get(f"/api/v1/projects/{project.pk}/review-queue/").status_code == 403


@pytest.mark.parametrize("body", [
    {"review_sample_share": 1.5}, {"review_sample_share": -0.1}, {"review_sample_share": "0.3"},
    {"review_sample_share": True}, {"review_full_below_accuracy": 2}, {"suspect_thresholds": {"defect": 0.3}},
    {"suspect_thresholds": {"defect": 1.01}}, {"suspect_thresholds": {"confident_cut": 0.7}},
    {"suspect_thresholds": {"ok": "0.9"}}, {"suspect_thresholds": [0.9]},
])
def test_review_by_risk_api_refuses_out_of_range_settings(make_project, admin_user, api_for, body):
    project = make_project("catheter")
    answer = api_for(admin_user).patch(f"/api/v1/projects/{project.pk}/", body, format="json")
    assert answer.status_code == 400, answer.content
    assert set(answer.json().get("fields", answer.json())) & set(body), answer.json()
    project.refresh_from_db()
    assert (project.review_sample_share, project.review_full_below_accuracy, project.suspect_thresholds) == \
        (1.0, 0.8, {})


def test_review_by_risk_settings_over_the_api_change_what_is_suspect(make_project, make_item, admin_user, operator,
                                                                    api_for, version):
    project = make_project("catheter", review_required=False, queue_policy="fifo")
    api = api_for(admin_user)
    answer = api.patch(f"/api/v1/projects/{project.pk}/",
                       {"review_sample_share": 0.3, "suspect_thresholds": {"defect": 0.99}}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["suspect_thresholds"] == {"defect": 0.99}
    assert answer.json()["review_sample_share"] == 0.3
    items = _predicted(project, make_item, version, [0.97])
    _answer_item(items[0], operator, OK)
    assert not SuspectLabel.objects.filter(item=items[0]).exists()   # 0.97 is below the project's 0.99
    quality = api.get(f"/api/v1/projects/{project.pk}/operator-quality/").json()
    by_name = {t["name"]: t for t in quality["suspect_thresholds"]}
    assert by_name["defect"]["value"] == 0.99 and by_name["ok"]["value"] == 0.9 and by_name["ok"]["default"] == 0.9
    assert quality["review_sample_share"] == 0.3


def test_review_by_risk_articles_threshold_must_be_a_whole_count(make_project, admin_user, api_for):
    project = make_project("articles")
    api = api_for(admin_user)
    bad = api.patch(f"/api/v1/projects/{project.pk}/", {"suspect_thresholds": {"min_disagreements": 2.5}},
                    format="json")
    assert bad.status_code == 400
    good = api.patch(f"/api/v1/projects/{project.pk}/", {"suspect_thresholds": {"min_disagreements": 3}},
                     format="json")
    assert good.status_code == 200, good.content
