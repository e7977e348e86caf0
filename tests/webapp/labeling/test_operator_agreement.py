"""Operator agreement: a share of items answered twice, blind, by different operators; agreement scored by the
kind's control measure; an agreeing pair follows the normal review routing, a disagreement waits for a reviewer
who keeps one answer or merges; only the kept answer is trained on or exported."""
import pytest

from webapp.core.errors import Conflict, NotAllowed, ServiceError
from webapp.labeling.models import AnswerPair, ItemState, Review, ReviewRouting, WorkItem
from webapp.labeling.selectors import export_rows, queue_depth
from webapp.labeling.selectors_agreement import agreement_summary
from webapp.labeling.selectors_loop import correction_list_new
from webapp.labeling.services import lease_take_next, project_update, revision_submit
from webapp.labeling.services.agreement import pair_resolve

DEFECT = {"type": "axial_scratch", "box": [10, 20, 60, 200]}
DEFECTIVE = {"verdict": "defect", "shots": [{"defects": [DEFECT]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}]}


def _answer(project, user, annotation):
    lease = lease_take_next(project_id=project.pk, user=user)
    assert lease is not None
    revision_submit(item_id=lease.item_id, user=user, annotation=annotation, base_revision=None)
    return WorkItem.objects.get(pk=lease.item_id)


@pytest.fixture
def doubled(make_project, make_item, make_user):
    """A catheter project answering every item twice, with review required and three operators."""
    project = make_project("catheter", double_answer_share=1.0, queue_policy="fifo")
    items = [make_item(project) for _ in range(2)]
    ops = [make_user("operator") for _ in range(3)]
    return {"project": project, "items": items, "ops": ops, "reviewer": make_user("reviewer")}


def test_operator_agreement_default_share_answers_once(make_project, make_item, make_user):
    project = make_project("catheter", review_required=False)
    assert project.double_answer_share == 0.0 and project.review_audit_share == 0.05
    make_item(project)
    item = _answer(project, make_user("operator"), OK)
    assert item.state == ItemState.ACCEPTED and not AnswerPair.objects.exists()


def test_operator_agreement_second_answer_is_blind_and_by_another_operator(doubled):
    project, (a, b, c) = doubled["project"], doubled["ops"]
    first = _answer(project, a, DEFECTIVE)
    assert first.state == ItemState.PAIRED and first.pk == doubled["items"][0].pk
    pair = AnswerPair.objects.get(item=first)
    assert pair.state == AnswerPair.State.WAITING and pair.first_operator == a
    with pytest.raises(Conflict, match="waits for a second operator's answer"):
        revision_submit(item_id=first.pk, user=a, annotation=OK, base_revision=1)
    # a is never handed the same item again: the queue's next item instead (its own pair waits, too)
    other = _answer(project, a, OK)
    assert other.pk == doubled["items"][1].pk
    # b gets the oldest waiting pair as a blind copy: the item's images and proposal, none of its revisions
    lease = lease_take_next(project_id=project.pk, user=b)
    copy = WorkItem.objects.get(pk=lease.item_id)
    assert copy.control_copy and copy.head_revision is None and copy.revisions.count() == 0
    assert [x.asset_id for x in copy.item_assets.all()] == [x.asset_id for x in first.item_assets.all()]
    pair.refresh_from_db()
    assert pair.second_copy_id == copy.pk and pair.second_operator == b
    # while b holds the copy, c is not given it (the other pair instead)
    lease_c = lease_take_next(project_id=project.pk, user=c)
    assert AnswerPair.objects.get(second_copy_id=lease_c.item_id).item_id == other.pk
    revision_submit(item_id=copy.pk, user=b, annotation=DEFECTIVE, base_revision=None)
    pair.refresh_from_db()
    first.refresh_from_db()
    assert pair.state == AnswerPair.State.AGREED and pair.agreement == 1.0
    assert pair.measures["verdict_agrees"] is True and pair.measures["box_f1"] == 1.0
    # agreeing: the normal routing (review required, every answer reviewed), with the first answer
    assert first.state == ItemState.SUBMITTED and first.head_revision.author == a
    assert queue_depth(project_id=project.pk)["paired"] == 1   # the other item still waits for c's answer


def test_operator_agreement_skipped_copy_goes_to_another_operator_never_the_first(doubled, expire_lease):
    from webapp.labeling.services import item_skip, lease_expire_stale

    project, (a, b, c) = doubled["project"], doubled["ops"]
    first = _answer(project, a, DEFECTIVE)
    lease = lease_take_next(project_id=project.pk, user=b)
    copy_id = lease.item_id
    item_skip(item_id=copy_id, user=b)
    # b skipped it a moment ago: b gets the queue's other item; a never gets the copy (nothing else is left)
    assert lease_take_next(project_id=project.pk, user=b).item_id == doubled["items"][1].pk
    assert lease_take_next(project_id=project.pk, user=a) is None
    lease_c = lease_take_next(project_id=project.pk, user=c)
    assert lease_c.item_id == copy_id            # the same copy, leased again
    expire_lease(lease_c)
    lease_expire_stale()
    lease_c2 = lease_take_next(project_id=project.pk, user=c)
    assert lease_c2.item_id == copy_id
    revision_submit(item_id=copy_id, user=c, annotation=OK, base_revision=None)
    pair = AnswerPair.objects.get(item=first)
    assert pair.second_operator == c and pair.state == AnswerPair.State.DISAGREED


def test_operator_agreement_disagreement_resolved_by_a_reviewer_only_kept_answer_trains(doubled):
    project, (a, b, _) = doubled["project"], doubled["ops"]
    project_update(project=project, review_required=False)
    doubled["items"].pop()
    first = _answer(project, a, DEFECTIVE)
    copy = _answer(project, b, OK)
    pair = AnswerPair.objects.get(item=first)
    assert pair.state == AnswerPair.State.DISAGREED and pair.agreement == 0.0
    first.refresh_from_db()
    assert first.state == ItemState.PAIRED          # not accepted: no review required, yet it waits
    assert correction_list_new(kind="catheter", scope_key=project.scope_key, cutoff=None) == [] or \
        first.pk not in {c.item_id for c in correction_list_new(kind="catheter", scope_key=project.scope_key,
                                                                  cutoff=None)}
    with pytest.raises(NotAllowed):
        pair_resolve(item_id=first.pk, reviewer=a, decision="keep_first")
    with pytest.raises(ServiceError, match="merged_from"):
        pair_resolve(item_id=first.pk, reviewer=doubled["reviewer"], decision="merge", annotation=OK)
    pair_resolve(item_id=first.pk, reviewer=doubled["reviewer"], decision="keep_second", comment="no scratch")
    pair.refresh_from_db()
    first.refresh_from_db()
    assert (pair.state, pair.resolution, pair.resolved_by) == ("resolved", "kept_second", doubled["reviewer"])
    assert first.state == ItemState.ACCEPTED and first.head_revision.annotation["verdict"] == "ok"
    assert pair.resolved_revision == first.head_revision
    review = Review.objects.get(item=first)
    assert review.revision == first.head_revision and "Kept the second answer" in review.comment
    trained = {c.item_id for c in correction_list_new(kind="catheter", scope_key=project.scope_key, cutoff=None)}
    assert trained == {first.pk} and copy.pk not in trained
    rows = [r for r in export_rows(project_id=project.pk)]
    assert [r.item_id for r in rows] == [first.pk]
    with pytest.raises(Conflict, match="nothing to resolve"):
        pair_resolve(item_id=first.pk, reviewer=doubled["reviewer"], decision="keep_first")


def test_operator_agreement_merge_starts_from_one_answer(doubled, make_user):
    project, (a, b, _) = doubled["project"], doubled["ops"]
    doubled["items"].pop()
    first = _answer(project, a, DEFECTIVE)
    _answer(project, b, OK)
    merged = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [10, 20, 60, 200]}]}]}
    pair_resolve(item_id=first.pk, reviewer=doubled["reviewer"], decision="merge", annotation=merged,
                 merged_from="first")
    first.refresh_from_db()
    pair = AnswerPair.objects.get(item=first)
    assert (pair.resolution, pair.merged_from) == ("merged", "first")
    assert first.state == ItemState.ACCEPTED and first.head_revision.annotation["shots"][0]["defects"][0]["type"] \
        == "bubble" and first.head_revision.author == doubled["reviewer"]


def test_operator_agreement_per_pair_of_operators(doubled, make_item):
    project, (a, b, c) = doubled["project"], doubled["ops"]
    for _ in range(2):
        make_item(project)
    project_update(project=project, review_required=False)
    for second, annotation in ((b, DEFECTIVE), (b, DEFECTIVE), (c, OK), (c, DEFECTIVE)):
        _answer(project, a, DEFECTIVE)
        _answer(project, second, annotation)
    summary = agreement_summary(project=project)
    rows = {tuple(r["operators"]): r for r in summary["pairs"]}
    ab = rows[tuple(sorted([a.username, b.username]))]
    ac = rows[tuple(sorted([a.username, c.username]))]
    assert (ab["answered"], ab["agreed"], ab["agreement_rate"]) == (2, 2, 1.0)
    assert (ac["answered"], ac["agreed"], ac["agreement_rate"]) == (2, 1, 0.5)
    assert ac["measures"]["verdict_agrees"] == 0.5 and ac["measures"]["box_f1"] == 0.5
    assert ac["measures"]["only_in_first"] == 0.5 and "missed" not in ac["measures"]
    assert summary["overall"]["answered"] == 4 and summary["disagreements_open"] == 1
    assert summary["kind"] == "catheter" and "verdict" in summary["measure"]


def test_operator_agreement_agreeing_pair_under_review_by_risk_is_routed(doubled):
    project, (a, b, _) = doubled["project"], doubled["ops"]
    project_update(project=project, review_sample_share=0.5)
    doubled["items"].pop()
    first = _answer(project, a, DEFECTIVE)
    assert not ReviewRouting.objects.exists()       # no routing while the pair waits
    _answer(project, b, DEFECTIVE)
    routing = ReviewRouting.objects.get()
    assert routing.item_id == first.pk and routing.revision == first.head_revision and routing.operator == a


@pytest.mark.django_db(transaction=True)
def test_operator_agreement_racing_operators_get_one_copy_per_pair(make_project, make_item, make_user):
    import threading

    from django.db import connection

    project = make_project("catheter", double_answer_share=1.0, review_required=False, queue_policy="fifo")
    for _ in range(3):
        make_item(project)
    first = make_user("operator")
    pairs = [_answer(project, first, OK).pk for _ in range(3)]
    users = [make_user("operator") for _ in range(8)]
    results, errors = [], []
    barrier = threading.Barrier(len(users))

    def race(user):
        try:
            barrier.wait()
            lease = lease_take_next(project_id=project.pk, user=user)
            results.append(lease.item_id if lease else None)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    taken = [r for r in results if r is not None]
    # three pairs, nothing else queued: three operators get a copy each, the others nothing
    assert len(taken) == 3 and len(set(taken)) == 3
    copies = dict(AnswerPair.objects.filter(item_id__in=pairs).values_list("second_copy_id", "second_operator_id"))
    assert set(copies) == set(taken)
    assert WorkItem.objects.filter(project=project, control_copy=True).count() == 3   # no orphan copy


def test_operator_agreement_control_copies_are_never_paired(make_project, make_item, make_user):
    from webapp.labeling.models import ControlAnswer
    from webapp.labeling.services.controls import control_mark

    project = make_project("catheter", review_required=False, queue_policy="fifo")
    make_item(project)
    author = make_user("operator")
    control_item = _answer(project, author, DEFECTIVE)
    control_mark(item_id=control_item.pk, user=make_user("admin"))
    project_update(project=project, control_rate=1.0, double_answer_share=1.0)
    make_item(project)
    operator = make_user("operator")
    copy = _answer(project, operator, OK)            # control rate 1: the control's copy first, scored
    assert copy.control_copy and ControlAnswer.objects.get(copy=copy).accuracy == 0.0
    assert not AnswerPair.objects.exists()
    queued = _answer(project, operator, OK)          # then the queue's item: answered once, waiting for another
    assert queued.state == ItemState.PAIRED and AnswerPair.objects.get().item == queued
    second = _answer(project, author, OK)            # the pair comes before the queue and the controls
    assert AnswerPair.objects.get(second_copy=second).state == AnswerPair.State.AGREED
    assert WorkItem.objects.get(pk=queued.pk).state == ItemState.ACCEPTED


CUT_A, CUT_B = {"x0": 100, "y0": 0, "x1": 100, "y1": 600}, {"x0": 0, "y0": 300, "x1": 800, "y1": 300}
IDENTITY = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


@pytest.mark.parametrize("kind,first,second,agreement,measures", [
    ("articles", {"page_type": "article", "cuts": [CUT_A, CUT_B], "articles": []},
     {"page_type": "article", "cuts": [CUT_A], "articles": []}, 0.6667, {"cut_f1": 0.6667, "page_type_agrees": True}),
    ("omr", {"status": "accepted", "homography": IDENTITY, "point_pairs": [], "reasons": []},
     {"status": "accepted", "homography": [[1, 0, 40], [0, 1, 0], [0, 0, 1]], "point_pairs": [], "reasons": []},
     0.0, {"status_agrees": True, "corner_error_px": 40.0}),
])
def test_operator_agreement_is_scored_by_each_kinds_measure(make_project, make_item, make_user, kind, first, second,
                                                            agreement, measures):
    project = make_project(kind, double_answer_share=1.0, review_required=False)
    make_item(project)
    item = _answer(project, make_user("operator"), first)
    _answer(project, make_user("operator"), second)
    pair = AnswerPair.objects.get(item=item)
    assert pair.agreement == pytest.approx(agreement, abs=1e-4)
    assert {k: pair.measures[k] for k in measures} == pytest.approx(measures, abs=1e-4)
    assert pair.state == AnswerPair.State.DISAGREED
    summary = agreement_summary(project=project)
    assert summary["kind"] == kind and summary["overall"]["answered"] == 1
