"""Drafts never reach training: the loop reads accepted revisions only, whatever drafts lie around."""
import pytest

from webapp.labeling.models import Draft
from webapp.labeling.services import draft_save, lease_release, lease_take_next, revision_submit
from workers import trainset
from workers.itemdata import load_items

pytestmark = pytest.mark.django_db

DRAFTED = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [4, 4, 20, 20], "point": [12, 12]}]},
                                          {"defects": []}]}
ACCEPTED = {"verdict": "ok", "shots": [{"defects": []}, {"defects": []}]}


def test_drafts_are_not_training_data(make_project, make_user, catheter_series_items):
    project = make_project("catheter", scope_key="line:drafts", review_required=False, queue_policy="fifo")
    (corrected, _), (only_drafted, _) = catheter_series_items(project, range(2))
    first, second = make_user(), make_user()
    # The first operator drafts on the first item, gives it back; the second accepts it with another answer.
    lease = lease_take_next(project_id=project.pk, user=first)
    draft_save(item_id=corrected.pk, user=first, annotation=DRAFTED, base_revision=None)
    lease_release(token=lease.token, user=first)
    lease_take_next(project_id=project.pk, user=second)
    revision_submit(item_id=corrected.pk, user=second, annotation=ACCEPTED, base_revision=None)
    # The other item only ever had a draft.
    lease = lease_take_next(project_id=project.pk, user=first)
    assert lease.item_id == only_drafted.pk
    draft_save(item_id=only_drafted.pk, user=first, annotation=DRAFTED, base_revision=None)
    assert Draft.objects.count() == 2

    new = trainset.new_corrections("catheter", "line:drafts")
    assert [c.item_id for c in new] == [corrected.pk]
    loaded = load_items([corrected.pk, only_drafted.pk], with_annotation=True)
    assert [i.item_id for i in loaded] == [corrected.pk] and loaded[0].annotation == ACCEPTED
    assert trainset.golden_ids("catheter", "line:drafts") == []
