"""Operator agreement over the API and the quality page; the audited label-quality settings (who, when,
old -> new, why); review by risk's audit draw as a project setting; the history of control marking."""
import pytest
from django.test import Client

from webapp.labeling.models import (
    AnswerPair, ControlMarkEvent, ItemState, ReviewRouting, ReviewSettingsChange, WorkItem,
)
from webapp.labeling.services import lease_take_next, project_update, revision_submit

DEFECTIVE = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [10, 20, 60, 200]}]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}]}


def _answer(project, user, annotation):
    lease = lease_take_next(project_id=project.pk, user=user)
    revision_submit(item_id=lease.item_id, user=user, annotation=annotation, base_revision=None)
    return lease.item_id


@pytest.fixture
def disagreement(make_project, make_item, make_user):
    project = make_project("catheter", double_answer_share=1.0, review_required=False, queue_policy="fifo")
    make_item(project)
    olga, oscar = make_user("operator", username="olga"), make_user("operator", username="oscar")
    item_id = _answer(project, olga, DEFECTIVE)
    _answer(project, oscar, OK)
    return {"project": project, "item": item_id, "reviewer": make_user("reviewer"), "olga": olga,
            "admin": make_user("admin")}


def test_operator_agreement_api_lists_shows_and_resolves(disagreement, api_for):
    project, item_id = disagreement["project"], disagreement["item"]
    reviewer = api_for(disagreement["reviewer"])
    listed = reviewer.get(f"/api/v1/projects/{project.pk}/answer-pairs/")
    assert listed.status_code == 200
    (row,) = listed.json()
    assert (row["item"], row["state"], row["first_operator"], row["second_operator"]) == \
        (item_id, "disagreed", "olga", "oscar")
    assert row["first"]["verdict"] == "defect" and row["second"]["verdict"] == "ok" and row["agreement"] == 0.0
    assert reviewer.get(f"/api/v1/projects/{project.pk}/answer-pairs/?state=nope").status_code == 400
    assert reviewer.get(f"/api/v1/projects/{project.pk}/answer-pairs/?state=agreed").json() == []
    # operators never see the answers (the second one is blind)
    assert api_for(disagreement["olga"]).get(f"/api/v1/items/{item_id}/answer-pair/").status_code == 403
    detail = reviewer.get(f"/api/v1/items/{item_id}/answer-pair/").json()
    assert detail["project"] == project.pk and len(detail["difference"]["removed"]) == 1
    url = f"/api/v1/items/{item_id}/answer-pair/resolve/"
    missing = reviewer.post(url, {"decision": "merge", "annotation": OK}, format="json")
    assert missing.status_code == 400 and "merged_from" in missing.json()
    bad = reviewer.post(url, {"decision": "merge", "merged_from": "first", "annotation": {"verdict": "maybe"}},
                        format="json")
    assert bad.status_code == 400
    assert WorkItem.objects.get(pk=item_id).state == ItemState.PAIRED       # nothing stored half
    kept = reviewer.post(url, {"decision": "keep_first", "comment": "the bubble is there"}, format="json")
    assert kept.status_code == 200
    body = kept.json()
    assert (body["state"], body["resolution"], body["resolved_revision"]) == ("resolved", "kept_first", 1)
    assert WorkItem.objects.get(pk=item_id).state == ItemState.ACCEPTED
    assert reviewer.post(url, {"decision": "keep_second"}, format="json").status_code == 409
    quality = reviewer.get(f"/api/v1/projects/{project.pk}/operator-quality/").json()
    (pair,) = quality["agreement"]["pairs"]
    assert pair["operators"] == ["olga", "oscar"] and pair["agreement_rate"] == 0.0
    assert quality["agreement"]["disagreements_open"] == 0 and quality["double_answer_share"] == 1.0


def test_operator_agreement_settings_changes_are_audited(make_project, make_user, api_for):
    project = make_project("catheter")
    admin = make_user("admin", username="ada")
    api = api_for(admin)
    for bad in (1.5, -0.1, "0.3", True):
        answer = api.patch(f"/api/v1/projects/{project.pk}/", {"double_answer_share": bad}, format="json")
        assert answer.status_code == 400 and "double_answer_share" in answer.json()
    assert not ReviewSettingsChange.objects.exists()
    answer = api.patch(f"/api/v1/projects/{project.pk}/", {"double_answer_share": 0.2, "review_audit_share": 0.1,
                                                            "change_reason": "pilot agreement"}, format="json")
    assert answer.status_code == 200 and answer.json()["double_answer_share"] == 0.2
    assert "change_reason" not in answer.json()
    change = ReviewSettingsChange.objects.get()
    assert change.actor == admin and change.reason == "pilot agreement"
    assert change.changes == {"double_answer_share": [0.0, 0.2], "review_audit_share": [0.05, 0.1]}
    # the quality page's form: every label-quality setting, with a reason
    client = Client()
    client.force_login(admin)
    page = client.post(f"/projects/{project.slug}/quality/settings/", {
        "review_sample_share": "0.5", "review_full_below_accuracy": "0.8", "review_audit_share": "0.1",
        "control_rate": "0.05", "double_answer_share": "0.2", "suspect_defect": "0.95", "suspect_ok": "0.9",
        "reason": "sample half"})
    assert page.status_code == 302
    latest = ReviewSettingsChange.objects.first()
    assert latest.reason == "sample half" and latest.changes == {
        "review_sample_share": [1.0, 0.5], "control_rate": [0.0, 0.05],
        "suspect_thresholds": [{}, {"defect": 0.95, "ok": 0.9}]}
    quality = api.get(f"/api/v1/projects/{project.pk}/operator-quality/").json()
    assert [c["reason"] for c in quality["settings_changes"]] == ["sample half", "pilot agreement"]
    assert {"field": "control_rate", "old": 0.0, "new": 0.05} in quality["settings_changes"][0]["changes"]
    shown = client.get(f"/projects/{project.slug}/quality/").content.decode()
    assert "control_rate: 0.0 → 0.05" in shown and "sample half" in shown


@pytest.mark.parametrize("audit_share,reviewed", [(0.0, 0), (1.0, 6)])
def test_operator_agreement_review_audit_share_is_a_project_setting(make_project, make_item, make_user,
                                                                    audit_share, reviewed):
    project = make_project("catheter", review_sample_share=0.0, review_full_below_accuracy=0.0,
                           review_audit_share=audit_share)
    for _ in range(6):
        make_item(project)
    operator = make_user("operator")
    while (lease := lease_take_next(project_id=project.pk, user=operator)) is not None:
        revision_submit(item_id=lease.item_id, user=operator, annotation=OK, base_revision=None)
    audits = ReviewRouting.objects.filter(project=project, reason=ReviewRouting.Reason.AUDIT).count()
    assert audits == reviewed and ReviewRouting.objects.filter(project=project).count() == 6


def test_operator_agreement_double_answer_share_is_drawn_per_item(make_project, make_item, make_user):
    project = make_project("catheter", review_required=False, double_answer_share=0.3)
    for _ in range(100):
        make_item(project)
    operator = make_user("operator")
    while (lease := lease_take_next(project_id=project.pk, user=operator)) is not None:
        revision_submit(item_id=lease.item_id, user=operator, annotation=OK, base_revision=None)
    paired = AnswerPair.objects.filter(project=project).count()
    assert 18 <= paired <= 42      # 30 expected; binomial sd 4.6
    assert WorkItem.objects.filter(project=project, state=ItemState.PAIRED).count() == paired
    # the lone operator is never handed their own items' second answers
    assert not AnswerPair.objects.filter(second_operator=operator).exists()


def test_operator_agreement_control_marking_keeps_its_history(disagreement, make_user, api_for):
    from webapp.labeling.services.controls import control_mark

    from webapp.labeling.services.agreement import pair_resolve

    project, item_id = disagreement["project"], disagreement["item"]
    pair_resolve(item_id=item_id, reviewer=disagreement["reviewer"], decision="keep_first")
    first, second = disagreement["admin"], make_user("admin")
    control_mark(item_id=item_id, user=first)
    control_mark(item_id=item_id, user=second, active=False)
    control_mark(item_id=item_id, user=first)
    events = list(ControlMarkEvent.objects.order_by("id").values_list("active", "actor__username"))
    assert events == [(True, first.username), (False, second.username), (True, first.username)]
    (control,) = api_for(first).get(f"/api/v1/projects/{project.pk}/operator-quality/").json()["controls"]
    assert [(h["active"], h["by"]) for h in control["history"]] == events
    project_update(project=project, control_rate=0.1)   # a script's change: audited without an actor
    assert ReviewSettingsChange.objects.get().actor is None
