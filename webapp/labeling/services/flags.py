"""Skip and flag: an operator hands an item back without an answer.

Skip: the item goes back to the queue at once, and take-next passes it over for that operator during
``LOUPE_SKIP_COOLDOWN_SECONDS``. Flag (with a reason): the item leaves the queue (state ``flagged``) until
a reviewer resolves the flag, which puts it back in the state it was taken from.
"""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.accounts.permissions import require
from webapp.core.errors import Conflict, NotFound, ServiceError
from webapp.labeling.models import Flag, ItemState, Lease, WorkItem
from webapp.labeling.selectors import lease_held
from webapp.labeling.services.events import depth_event, item_event

MAX_COMMENT = 4000


def _held_lease(item_id: int, user, action: str) -> Lease:
    project_id = WorkItem.objects.filter(pk=item_id).values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound(f"no work item {item_id}")
    require(user, "item.label", project_id=project_id)
    lease = lease_held(item_id=item_id, user=user)
    if lease is None:
        raise Conflict(f"{action} needs your lease on this item, and you do not hold it")
    return lease


def _end(lease: Lease, user, reason: str, state: str, now) -> bool:
    """Compare-and-set: the item leaves the caller's hands only if it is still leased to them."""
    moved = WorkItem.objects.filter(pk=lease.item_id, state=ItemState.LEASED, lease_holder=user).update(
        state=state, lease_holder=None, lease_expires_at=None, updated_at=now)
    if moved:
        Lease.objects.filter(pk=lease.pk, ended_at__isnull=True).update(ended_at=now, end_reason=reason)
    return bool(moved)


@transaction.atomic
def item_skip(*, item_id: int, user) -> None:
    lease = _held_lease(item_id, user, "skipping")
    if not _end(lease, user, Lease.End.SKIPPED, lease.previous_state, timezone.now()):
        raise Conflict("the lease ended before the skip arrived")
    lease.item.state = lease.previous_state
    item_event(lease.item, "lease.released", holder=user.get_username(), skipped=True)
    depth_event(lease.item.project_id)


def item_flag(*, item_id: int, user, reason: str, comment: str = "") -> Flag:
    if reason not in Flag.Reason.values:
        raise ServiceError(f"reason must be one of {', '.join(Flag.Reason.values)} (got {reason!r})",
                           details={"field": "reason"})
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise ServiceError(f"comment must be text of at most {MAX_COMMENT} characters", details={"field": "comment"})
    if reason == Flag.Reason.OTHER and not comment.strip():
        raise ServiceError("say what is wrong: a flag for another reason needs a comment", details={"field": "comment"})
    try:
        with transaction.atomic():
            lease = _held_lease(item_id, user, "flagging")
            now = timezone.now()
            if not _end(lease, user, Lease.End.FLAGGED, ItemState.FLAGGED, now):
                raise Conflict("the lease ended before the flag arrived")
            flag = Flag.objects.create(item_id=item_id, author=user, reason=reason, comment=comment.strip(),
                                       return_state=lease.previous_state)
    except IntegrityError:
        raise Conflict("this item is flagged already") from None
    lease.item.state = ItemState.FLAGGED
    item_event(lease.item, "item.flagged", flag=flag.pk, reason=reason, comment=flag.comment,
               author=user.get_username())
    depth_event(lease.item.project_id)
    return flag


@transaction.atomic
def flag_resolve(*, flag_id: int, reviewer, comment: str = "") -> Flag:
    """Close the flag and put the item back in the queue, in the state it was taken from."""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise ServiceError(f"comment must be text of at most {MAX_COMMENT} characters", details={"field": "comment"})
    flag = Flag.objects.select_related("item").select_for_update(of=("self",)).filter(pk=flag_id).first()
    if flag is None:
        raise NotFound(f"no flag {flag_id}")
    require(reviewer, "item.review", project_id=flag.item.project_id)
    if flag.resolved_at is not None:
        raise Conflict(f"flag {flag_id} was resolved already")
    now = timezone.now()
    Flag.objects.filter(pk=flag.pk).update(resolved_at=now, resolved_by=reviewer, resolution=comment.strip())
    WorkItem.objects.filter(pk=flag.item_id, state=ItemState.FLAGGED).update(state=flag.return_state, updated_at=now)
    flag.refresh_from_db()
    flag.item.state = flag.return_state
    item_event(flag.item, "flag.resolved", flag=flag.pk, reviewer=reviewer.get_username(), comment=flag.resolution)
    depth_event(flag.item.project_id)
    return flag
