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
    revision_submit(item_id=item.pk, user=author, annotation=DEFECT, base_revision=1)
    review_submit(item_id=item.pk, reviewer=reviewer, decision="accept", revision=2)
    item.refresh_from_db()
    assert item.state == ItemState.ACCEPTED
    with pytest.raises(Conflict):
        revision_submit(item_id=item.pk, user=author, annotation=OK, base_revision=2)
