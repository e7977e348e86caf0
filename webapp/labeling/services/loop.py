"""Hooks of the labeling core into the learning loop. The web process only names worker tasks."""
from __future__ import annotations

from django.conf import settings

from webapp.core import tasknames
from webapp.core.errors import Conflict, NotFound
from webapp.core.tasks import enqueue
from webapp.labeling.models import ItemState, WorkItem


def correction_accepted(*, project_id: int) -> None:
    """An accepted correction (review accept, or a submit where no review is required): the workers check,
    on commit, whether the scope has gathered enough corrections to train."""
    enqueue(tasknames.TRAINING_TRIGGER_CHECK, project_id)


def item_predict_request(*, item_id: int) -> None:
    """A new item: predicted as soon as its working copies are ready (the task skips it until then; the
    derivatives task queues it again when they are)."""
    enqueue(tasknames.PREDICT_ITEMS, [item_id], True, priority=settings.LOUPE_PRIORITY_NEW)


def item_repredict(*, item_id: int) -> WorkItem:
    """An operator asks for a proposal now: queued ahead of backfill and re-scoring."""
    item = WorkItem.objects.filter(pk=item_id).only("id", "state").first()
    if item is None:
        raise NotFound(f"no work item {item_id}")
    if item.state == ItemState.ACCEPTED:
        raise Conflict(f"item {item_id} is accepted; its annotation is final and needs no proposal")
    enqueue(tasknames.REPREDICT_ITEM, item_id, priority=settings.LOUPE_PRIORITY_INTERACTIVE)
    return item
