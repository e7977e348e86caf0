import pytest

from webapp.core.errors import Conflict, NotAllowed, ServiceError
from webapp.labeling.kinds import AnnotationError
from webapp.labeling.models import ItemState, Revision
from webapp.labeling.services import lease_take_next, review_submit, revision_submit

DEFECT = {"verdict": "defect", "shots": [{"defects": [{"type": "axial_scratch", "box": [10, 10, 50, 40]}]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}]}


def test_submit_appends_revisions_and_moves_to_review(make_project, make_item, operator):
    project = make_project()
    item = make_item(project)
    lease_take_next(project_id=project.pk, user=operator)
    rev = revision_submit(item_id=item.pk, user=operator, annotation=DEFECT, base_revision=None)
    item.refresh_from_db()
    assert rev.number == 1 and item.head_revision == rev and item.state == ItemState.SUBMITTED
    assert rev.edit_count >= 1


def test_stale_base_is_refused_with_both_versions_and_nothing_overwritten(make_project, make_item, make_user):
    project = make_project(review_required=False)
    item = make_item(project)
    alice, bob = make_user(), make_user()
    lease_take_next(project_id=project.pk, user=alice)
    revision_submit(item_id=item.pk, user=alice, annotation=DEFECT, base_revision=None)
    with pytest.raises(Conflict) as caught:
        revision_submit(item_id=item.pk, user=bob, annotation=OK, base_revision=None)
    details = caught.value.details
    assert details["yours"] == OK
    assert details["current"]["number"] == 1 and details["current"]["annotation"] == DEFECT
    assert Revision.objects.filter(item=item).count() == 1


def test_invalid_geometry_and_classes_are_refused_with_paths(make_project, make_item, operator):
    project = make_project()
    item = make_item(project)  # 800×600
    bad = {"verdict": "defect", "shots": [{"defects": [{"type": "crack", "box": [10, 10, 900, 40]}]}]}
    with pytest.raises(AnnotationError) as caught:
        revision_submit(item_id=item.pk, user=operator, annotation=bad, base_revision=None)
    paths = {e["path"] for e in caught.value.errors}
    assert "$.shots[0].defects[0].type" in paths and "$.shots[0].defects[0].box" in paths
    assert not Revision.objects.exists()


def test_item_leased_to_someone_else_cannot_be_overwritten(make_project, make_item, make_user):
    project = make_project()
    item = make_item(project)
    holder, other = make_user(), make_user()
    lease_take_next(project_id=project.pk, user=holder)
    with pytest.raises(Conflict):
        revision_submit(item_id=item.pk, user=other, annotation=OK, base_revision=None)


def test_review_rules(make_project, make_item, make_user):
    project = make_project()
    item = make_item(project)
    author = make_user("reviewer")  # a reviewer may label too, but not review their own work
    lease_take_next(project_id=project.pk, user=author)
    revision_submit(item_id=item.pk, user=author, annotation=DEFECT, base_revision=None)
    with pytest.raises(NotAllowed):
        review_submit(item_id=item.pk, reviewer=author, decision="accept")
    with pytest.raises(NotAllowed):
        review_submit(item_id=item.pk, reviewer=make_user("operator"), decision="accept")
    reviewer = make_user("reviewer")
    with pytest.raises(ServiceError):
        review_submit(item_id=item.pk, reviewer=reviewer, decision="send_back", comment="  ")
    review_submit(item_id=item.pk, reviewer=reviewer, decision="send_back", comment="box too small")
    item.refresh_from_db()
    assert item.state == ItemState.SENT_BACK
    assert lease_take_next(project_id=project.pk, user=author).item_id == item.pk  # sent back: queued again
    revision_submit(item_id=item.pk, user=author, annotation=DEFECT, base_revision=1)
    review_submit(item_id=item.pk, reviewer=reviewer, decision="accept", revision=2)
    item.refresh_from_db()
    assert item.state == ItemState.ACCEPTED
    with pytest.raises(Conflict):
        revision_submit(item_id=item.pk, user=author, annotation=OK, base_revision=2)


# Submitting needs the item's lease: nobody skips the queue (its order and its audit sample) by
# submitting onto an item they never took.

def test_submitting_onto_an_item_never_taken_is_refused_and_nothing_is_stored(make_project, make_item, make_user):
    project = make_project(review_required=False)
    first, second = make_item(project), make_item(project)
    operator, other = make_user(), make_user()
    with pytest.raises(Conflict) as caught:
        revision_submit(item_id=second.pk, user=operator, annotation=OK, base_revision=None)
    assert "take it from the queue" in caught.value.message and caught.value.details["yours"] == OK
    lease_take_next(project_id=project.pk, user=other)  # the other operator holds the first item
    with pytest.raises(Conflict):
        revision_submit(item_id=first.pk, user=operator, annotation=OK, base_revision=None)
    assert not Revision.objects.exists()
    second.refresh_from_db()
    assert second.state == ItemState.NEW


def test_a_lapsed_lease_still_submits_while_nobody_took_the_item(make_project, make_item, make_user, expire_lease):
    from webapp.labeling.services import lease_expire_stale

    project = make_project(review_required=False)
    kept, swept = make_item(project), make_item(project)
    operator = make_user()
    lease = lease_take_next(project_id=project.pk, user=operator)
    assert lease.item_id == kept.pk
    expire_lease(lease)  # lapsed, still marked leased to the operator
    assert revision_submit(item_id=kept.pk, user=operator, annotation=OK, base_revision=None).number == 1
    lease = lease_take_next(project_id=project.pk, user=operator)
    expire_lease(lease)
    assert lease_expire_stale() == 1  # swept back to the queue; nobody took it since
    assert revision_submit(item_id=swept.pk, user=operator, annotation=OK, base_revision=None).number == 1


def test_a_lapsed_lease_retaken_by_someone_else_no_longer_submits(make_project, make_item, make_user, expire_lease):
    project = make_project()
    item = make_item(project)
    first, second = make_user(), make_user()
    expire_lease(lease_take_next(project_id=project.pk, user=first))
    assert lease_take_next(project_id=project.pk, user=second).item_id == item.pk
    with pytest.raises(Conflict):
        revision_submit(item_id=item.pk, user=first, annotation=OK, base_revision=None)
    assert revision_submit(item_id=item.pk, user=second, annotation=OK, base_revision=None).number == 1


def test_a_review_is_not_a_submit_and_needs_no_lease(make_project, make_item, make_user):
    project = make_project()
    item = make_item(project)
    operator, reviewer = make_user(), make_user("reviewer")
    lease_take_next(project_id=project.pk, user=operator)
    revision_submit(item_id=item.pk, user=operator, annotation=DEFECT, base_revision=None)
    assert review_submit(item_id=item.pk, reviewer=reviewer, decision="accept").decision == "accept"
    # An admin is no exception to the lease rule: fixing work goes through the queue like anyone's.
    admin = make_user("admin")
    other = make_item(project)
    with pytest.raises(Conflict):
        revision_submit(item_id=other.pk, user=admin, annotation=OK, base_revision=None)


def test_a_take_between_the_lease_check_and_the_write_loses_the_save_cleanly(make_project, make_item, make_user,
                                                                              expire_lease, monkeypatch):
    """The lapsed holder passes the lease check; someone takes the item before the write: refused, 409."""
    from webapp.labeling.services import lease_expire_stale, revisions

    project = make_project()
    item = make_item(project)
    first, second = make_user(), make_user()
    expire_lease(lease_take_next(project_id=project.pk, user=first))
    lease_expire_stale()
    checked = revisions._holds_lease

    def check_then_someone_takes(item_, user):
        held = checked(item_, user)
        lease_take_next(project_id=project.pk, user=second)
        return held

    monkeypatch.setattr(revisions, "_holds_lease", check_then_someone_takes)
    with pytest.raises(Conflict) as caught:
        revision_submit(item_id=item.pk, user=first, annotation=OK, base_revision=None)
    assert "taken from the queue" in caught.value.message
    item.refresh_from_db()
    assert item.state == ItemState.LEASED and item.lease_holder == second and not Revision.objects.exists()
