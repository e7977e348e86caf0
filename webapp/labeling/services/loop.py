"""Hooks of the labeling core into the learning loop. The web process only names worker tasks."""
from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from webapp.core import tasknames
from webapp.core.errors import Conflict, NotFound
from webapp.core.tasks import enqueue
from webapp.labeling.models import ItemState, WorkItem
from webapp.realtime.coalesce import coalescer


def correction_accepted(*, project_id: int) -> None:
    """An accepted correction (review accept, or a submit where no review is required): the workers check,
    after commit, whether the scope has gathered enough corrections to train.

    The check counts every new correction of the scope, so a burst needs one check, not one per submit:
    the message is sent from a background thread at most once per project and coalescing interval, on the
    trailing edge (the last correction of a burst is always followed by a check). Sending it is not the
    request's work (a broker publish costs more than the rest of a submit on a busy machine). The beat's
    sweep checks every scope anyway, should this process end before it sends."""

    def _send() -> None:
        from webapp.config.celery import app

        app.send_task(tasknames.TRAINING_TRIGGER_CHECK, args=[project_id])

    transaction.on_commit(lambda: coalescer.mark(f"trigger-check:{project_id}", _send))


@transaction.atomic
def item_hold_out(*, item_ids: list[int]) -> list[int]:
    """Move accepted training-pool items into the golden set (never trained on from then on), marked
    ``meta.held_out``; returns those moved (an item already golden, or not accepted, stays as it is)."""
    moved = []
    for item in WorkItem.objects.select_for_update().filter(pk__in=item_ids, split=WorkItem.Split.POOL,
                                                            state=ItemState.ACCEPTED).order_by("id"):
        item.split = WorkItem.Split.GOLDEN
        item.meta = {**(item.meta or {}), "held_out": True}
        item.save(update_fields=["split", "meta"])
        moved.append(item.pk)
    return moved


def item_predict_request(*, item_id: int) -> None:
    """A new item: predicted as soon as its working copies are ready (the task skips it until then; the
    derivatives task queues it again when they are)."""
    enqueue(tasknames.PREDICT_ITEMS, [item_id], True, priority=settings.LOUPE_PRIORITY_NEW)


def repredict_pending_key(item: WorkItem) -> str:
    # The creation time makes the key unique to this item even where ids are reused (a recreated database).
    return f"repredict-pending:{item.pk}:{int(item.created_at.timestamp() * 1_000_000)}"


def item_repredict(*, item_id: int) -> tuple[WorkItem, bool]:
    """An operator asks for a proposal now: queued ahead of backfill and re-scoring, once. While a request
    for the item is pending (until the worker picks it up), another one queues nothing: returns
    (item, False)."""
    item = WorkItem.objects.filter(pk=item_id).only("id", "state", "created_at").first()
    if item is None:
        raise NotFound(f"no work item {item_id}")
    if item.state == ItemState.ACCEPTED:
        raise Conflict(f"item {item_id} is accepted; its annotation is final and needs no proposal")
    if not cache.add(repredict_pending_key(item), 1, timeout=settings.LOUPE_REPREDICT_PENDING_SECONDS):
        return item, False
    enqueue(tasknames.REPREDICT_ITEM, item_id, priority=settings.LOUPE_PRIORITY_INTERACTIVE)
    return item, True


def item_repredict_started(*, item_id: int) -> None:
    """The worker took the request: a new one may be queued from now on."""
    item = WorkItem.objects.filter(pk=item_id).only("id", "created_at").first()
    if item is not None:
        cache.delete(repredict_pending_key(item))
