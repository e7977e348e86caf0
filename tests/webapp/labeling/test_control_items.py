"""Control items: marked by an admin on accepted work, served blind as copies at the project's rate, never
twice to one operator, scored against the truth by the kind's measure, never reviewed, exported or trained on."""
import random

import pytest

from webapp.labeling.models import ControlAnswer, ControlItem, ItemState, WorkItem
from webapp.labeling.selectors_loop import correction_list_new
from webapp.labeling.services import lease_take_next, revision_submit
from webapp.labeling.services.controls import control_mark

DEFECT = {"type": "axial_scratch", "box": [10, 20, 60, 200]}
TRUTH = {"verdict": "defect", "shots": [{"defects": [DEFECT]}]}
WRONG = {"verdict": "ok", "shots": [{"defects": []}]}


def _label_all(project, user, annotation=TRUTH):
    """``user`` takes and answers every queued item of the project (accepted at once: no review)."""
    done = []
    while (lease := lease_take_next(project_id=project.pk, user=user)) is not None:
        revision_submit(item_id=lease.item_id, user=user, annotation=annotation, base_revision=None)
        done.append(lease.item_id)
    return done


@pytest.fixture
def controlled(make_project, make_item, make_user):
    """A catheter project without review, whose 4 items an author labelled; 3 of them are control items."""
    project = make_project("catheter", review_required=False, control_rate=1.0)
    author, admin = make_user("operator"), make_user("admin")
    for _ in range(4):
        make_item(project)
    accepted = _label_all(project, author)
    controls = [control_mark(item_id=pk, user=admin) for pk in accepted[:3]]
    return {"project": project, "author": author, "admin": admin, "controls": controls, "accepted": accepted}


def test_control_item_is_served_as_a_blind_copy_and_never_twice_to_one_operator(controlled, make_item, make_user):
    project = controlled["project"]
    for _ in range(5):
        make_item(project)
    operator = make_user("operator")
    served = []
    for _ in range(8):
        lease = lease_take_next(project_id=project.pk, user=operator)
        item = WorkItem.objects.get(pk=lease.item_id)
        if item.control_copy:
            served.append(ControlAnswer.objects.get(copy=item).control_id)
            # the copy carries the control's images and meta, and none of its revisions
            source = ControlItem.objects.get(pk=served[-1]).item
            assert [a.asset_id for a in item.item_assets.all()] == [a.asset_id for a in source.item_assets.all()]
            assert item.head_revision is None and item.state == ItemState.LEASED
        revision_submit(item_id=item.pk, user=operator, annotation=TRUTH, base_revision=None)
    # rate 1: the three controls first, each once, then the queue
    assert sorted(served) == sorted(c.pk for c in controlled["controls"])
    assert WorkItem.objects.filter(project=project, control_copy=False, state=ItemState.ACCEPTED).count() == 9
    # the author of the truth is never scored against their own answer
    assert lease_take_next(project_id=project.pk, user=controlled["author"]) is None


def test_control_item_copies_are_served_at_the_project_rate(make_project, make_item, make_user):
    project = make_project("catheter", review_required=False, control_rate=0.2)
    author, admin, operator = make_user("operator"), make_user("admin"), make_user("operator")
    for _ in range(60):
        make_item(project)
    accepted = _label_all(project, author)
    for pk in accepted:
        control_mark(item_id=pk, user=admin)
    for _ in range(100):
        make_item(project)
    rng = random.Random(7)
    copies = 0
    for _ in range(100):
        lease = lease_take_next(project_id=project.pk, user=operator, rng=rng)
        copies += WorkItem.objects.get(pk=lease.item_id).control_copy
        revision_submit(item_id=lease.item_id, user=operator, annotation=TRUTH, base_revision=None)
    assert 10 <= copies <= 30     # 20 expected; binomial sd 4
    assert ControlAnswer.objects.filter(operator=operator).count() == copies


def test_control_item_answers_are_scored_and_never_trained_on_or_exported(controlled, make_user):
    from webapp.labeling.selectors import export_rows, queue_depth

    project = controlled["project"]
    careful, careless = make_user("operator"), make_user("operator")
    for user, annotation in ((careful, TRUTH), (careless, WRONG)):
        for _ in range(3):
            lease = lease_take_next(project_id=project.pk, user=user)
            revision_submit(item_id=lease.item_id, user=user, annotation=annotation, base_revision=None)
    good = ControlAnswer.objects.filter(operator=careful)
    bad = ControlAnswer.objects.filter(operator=careless)
    assert [a.accuracy for a in good] == [1.0] * 3
    assert [a.accuracy for a in bad] == [0.0] * 3      # wrong verdict, the defect missed: F1 0
    assert bad[0].measures["missed"] == 1 and bad[0].measures["verdict_agrees"] is False
    # the truth is untouched; the copies are accepted answers, but neither training nor exports see them
    for control in controlled["controls"]:
        control.item.refresh_from_db()
        assert control.item.head_revision_id == control.truth_id
    new = {c.item_id for c in correction_list_new(kind="catheter", scope_key=project.scope_key, cutoff=None)}
    assert new == set(controlled["accepted"])
    assert {row.item_id for row in export_rows(project_id=project.pk)} == set(controlled["accepted"])
    assert queue_depth(project_id=project.pk)["accepted"] == 4


def test_control_item_marking_needs_an_accepted_item_and_an_admin(make_project, make_item, make_user):
    from webapp.core.errors import Conflict, NotAllowed

    project = make_project("catheter")
    item = make_item(project)
    with pytest.raises(Conflict, match="only an accepted item"):
        control_mark(item_id=item.pk, user=make_user("admin"))
    with pytest.raises(NotAllowed):
        control_mark(item_id=item.pk, user=make_user("reviewer"))


def test_control_item_copy_let_go_is_never_offered_to_another_operator(controlled, make_user, expire_lease):
    from webapp.labeling.services import lease_expire_stale, lease_release

    project = controlled["project"]
    first, second = make_user("operator"), make_user("operator")
    lost = lease_take_next(project_id=project.pk, user=first)
    expire_lease(lost)
    released = lease_take_next(project_id=project.pk, user=first)
    lease_release(token=released.token, user=first)
    assert WorkItem.objects.get(pk=lost.item_id).control_copy
    for _ in range(3):      # the second operator gets their own copies of the three control items, then nothing
        lease = lease_take_next(project_id=project.pk, user=second)
        assert lease.item_id not in (lost.item_id, released.item_id)
        revision_submit(item_id=lease.item_id, user=second, annotation=TRUTH, base_revision=None)
    assert lease_take_next(project_id=project.pk, user=second) is None
    lease_expire_stale()
    assert lease_take_next(project_id=project.pk, user=second) is None
    # the first operator may still answer the copy whose lease lapsed; it is scored like any answer
    revision_submit(item_id=lost.item_id, user=first, annotation=TRUTH, base_revision=None)
    assert ControlAnswer.objects.get(copy_id=lost.item_id).accuracy == 1.0
