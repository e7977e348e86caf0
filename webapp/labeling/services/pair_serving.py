"""Serving an item's second, blind answer: take-next hands the waiting pair to an operator other than the one
who answered first, as a blind copy of the item (made on the first serving, leased again to the next
operator when the one before let it go: released, skipped or expired without an answer)."""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q

from webapp.labeling.models import AnswerPair, ItemState, Lease, Prediction, WorkItem
from webapp.labeling.services.blind_copies import item_blind_copy

# A copy that nobody holds can be leased again from these states (a lapsed lease leaves it LEASED).
_FREE_COPY_STATES = (ItemState.NEW, ItemState.PREDICTED)


@transaction.atomic
def pair_serve(*, pair_id: int, user, now: datetime, expires: datetime,
               ahead_in: int | None = None) -> Lease | None:
    """Lease the pair's blind copy to ``user``; None when the pair is not theirs to answer or another
    operator's take-next got it first. ``ahead_in``: the project, when the copy is leased ahead."""
    pair = (AnswerPair.objects.select_for_update(of=("self",)).select_related("item")
            .filter(pk=pair_id, state=AnswerPair.State.WAITING).first())
    if pair is None or pair.first_operator_id == user.pk:
        return None
    if pair.second_copy_id is None:
        copy, lease = item_blind_copy(source=pair.item, user=user, expires=expires, ahead_in=ahead_in)
        # Compare-and-set: where the row lock is no lock (SQLite), a concurrent first serving may have won.
        if not AnswerPair.objects.filter(pk=pair.pk, second_copy__isnull=True).update(second_copy=copy,
                                                                                   second_operator=user):
            transaction.set_rollback(True)
            return None
        return lease
    free = Q(state__in=_FREE_COPY_STATES) | Q(state=ItemState.LEASED, lease_expires_at__lt=now)
    claimed = WorkItem.objects.filter(free, pk=pair.second_copy_id).update(
        state=ItemState.LEASED, lease_holder=user, lease_expires_at=expires, updated_at=now)
    if not claimed:
        return None
    Lease.objects.filter(item_id=pair.second_copy_id, ended_at__isnull=True).update(
        ended_at=now, end_reason=Lease.End.EXPIRED)
    has_proposal = Prediction.objects.filter(item_id=pair.second_copy_id).exists()
    lease = Lease.objects.create(item_id=pair.second_copy_id, holder=user, expires_at=expires, ahead_in_id=ahead_in,
                                 previous_state=ItemState.PREDICTED if has_proposal else ItemState.NEW)
    lease.item = WorkItem(pk=pair.second_copy_id, project_id=pair.project_id, state=ItemState.LEASED)
    AnswerPair.objects.filter(pk=pair.pk).update(second_operator=user)
    return lease
