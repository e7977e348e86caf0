"""Leases: an operator takes the next item of a queue for a while (TTL, heartbeat) — never two holders.

Taking uses ``SELECT ... FOR UPDATE SKIP LOCKED`` where the database has it (PostgreSQL), so racing
clients pass over each other's rows instead of queueing. On PostgreSQL the whole take-next (live lease
check, pick, claim, lease row) is one statement (``lease_claim``); the general path, used on other
databases and to reclaim expired leases, claims with a compare-and-set UPDATE in a short transaction,
which keeps the single-holder guarantee on every database (SQLite serialises writers).
"""
from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from webapp.accounts.permissions import require
from webapp.core.errors import Conflict, Gone, NotAllowed, NotFound
from webapp.labeling.models import ItemState, Lease, Project, WorkItem
from webapp.labeling.selectors import queue_candidates, queue_ordered
from webapp.labeling.selectors_agreement import pair_next_id
from webapp.labeling.selectors_quality import control_next_id
from webapp.labeling.services.controls import control_serve
from webapp.labeling.services.pair_serving import pair_serve
from webapp.labeling.services.events import depth_event, item_event
from webapp.labeling.services.lease_claim import lease_claim_one_statement

CLAIM_ATTEMPTS = 8


def _ttl() -> timedelta:
    return timedelta(seconds=settings.LOUPE_LEASE_TTL_SECONDS)


def _relaxed_commit() -> None:
    """A lease is ephemeral (a lost one just returns the item to the queue), so on PostgreSQL its
    transaction need not wait for the WAL flush. Revisions keep full durability."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _locked(qs):
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


def _pick(project: Project, user, now, rng: random.Random) -> tuple[int, str] | None:
    """The next item to offer: an item whose lease expired, else the audit slice or the policy's order;
    never one the operator skipped a moment ago."""
    expired, queue = queue_candidates(project=project, user=user, now=now)
    for item in _locked(expired)[:1]:
        return item.pk, item.state
    if project.audit_share > 0 and rng.random() < project.audit_share:
        pivot = rng.random()
        for item in _locked(queue.filter(audit_key__gte=pivot).order_by("audit_key"))[:1]:
            return item.pk, item.state
    for item in _locked(queue_ordered(project=project, queue=queue))[:1]:
        return item.pk, item.state
    return None


def lease_take_next(*, project_id: int, user, rng: random.Random | None = None) -> Lease | None:
    """Lease the next item of the project's queue to ``user``; ``None`` when the queue is empty.

    An operator who already holds a live lease in this project gets that one back (a reload does not
    grab a second item): the item they work on first; else the item leased ahead for them
    (``lease_ahead``), which becomes their current one.
    """
    require(user, "item.label", project_id=project_id)
    lease = lease_claim(project_id=project_id, user=user, now=timezone.now(), rng=rng or random.Random())
    if lease is not None and lease.ahead_in_id is not None:
        lease_ahead_promote(lease)
    return lease


def lease_ahead_promote(lease: Lease) -> None:
    """The operator moved on to the item leased ahead: it is their current item now."""
    Lease.objects.filter(pk=lease.pk).update(ahead_in=None)
    lease.ahead_in_id = None


def lease_claim(*, project_id: int, user, now, rng: random.Random, ahead: bool = False) -> Lease | None:
    """Take-next's claim (permission checked by the caller). ``ahead``: claim an item beside the operator's
    current one, marked as leased ahead (the caller checked they hold one and none ahead; the database
    refuses a second lease ahead with an IntegrityError)."""
    if connection.vendor == "postgresql":
        outcome = lease_claim_one_statement(
            project_id=project_id, user=user, now=now, expires=now + _ttl(),
            skip_since=now - timedelta(seconds=settings.LOUPE_SKIP_COOLDOWN_SECONDS),
            audit_roll=rng.random(), audit_pivot=rng.random(), control_roll=rng.random(), ahead=ahead)
        if outcome.status == "missing":
            raise NotFound(f"no project {project_id}")
        if outcome.status == "empty":
            return None
        if outcome.status == "pair":
            lease = pair_serve(pair_id=outcome.pair_id, user=user, now=now, expires=now + _ttl(),
                               ahead_in=project_id if ahead else None)
            if lease is not None:
                _announce(lease, user)
                return lease
            return _take_next_general(project_id=project_id, user=user, now=now, rng=rng, ahead=ahead)
        if outcome.status == "control":
            lease = control_serve(control_id=outcome.control_id, user=user, now=now, expires=now + _ttl(),
                                  ahead_in=project_id if ahead else None)
            if lease is not None:
                _announce(lease, user)
                return lease
            return _take_next_general(project_id=project_id, user=user, now=now, rng=rng, controls=False,
                                      ahead=ahead)
        if outcome.status in ("taken", "held"):
            lease = outcome.lease
            lease.item = WorkItem(pk=lease.item_id, project_id=project_id, state=ItemState.LEASED)
            if outcome.status == "taken":
                _announce(lease, user)
            return lease
        # "expired": an item of the project waits to be reclaimed; the general path below does that.
    return _take_next_general(project_id=project_id, user=user, now=now, rng=rng, ahead=ahead)


def _announce(lease: Lease, user) -> None:
    item_event(lease.item, "lease.taken", holder=user.get_username(), expires_at=lease.expires_at.isoformat())
    depth_event(lease.item.project_id)


def _take_next_general(*, project_id: int, user, now, rng: random.Random, controls: bool = True,
                       ahead: bool = False) -> Lease | None:
    """Any database: the live lease check, then pick and compare-and-set claim in a short transaction."""
    try:
        project = Project.objects.get(pk=project_id)
    except Project.DoesNotExist:
        raise NotFound(f"no project {project_id}") from None
    ahead_in = project.pk if ahead else None
    if not ahead:  # the operator's live lease, the item they work on first
        held = (Lease.objects.filter(item__project=project, holder=user, ended_at__isnull=True, expires_at__gt=now)
                .select_related("item").order_by(F("ahead_in").asc(nulls_first=True), "id").first())
        if held is not None:
            return held
    # An item answered once waits for its second, blind answer: it comes before the queue. A pair another
    # operator's take-next got first is passed over for the next one.
    skip_since = now - timedelta(seconds=settings.LOUPE_SKIP_COOLDOWN_SECONDS)
    for _ in range(CLAIM_ATTEMPTS):
        pair_id = pair_next_id(project_id=project.pk, user=user, now=now, skip_since=skip_since)
        if pair_id is None:
            break
        lease = pair_serve(pair_id=pair_id, user=user, now=now, expires=now + _ttl(), ahead_in=ahead_in)
        if lease:
            _announce(lease, user)
            return lease
    if controls and project.control_rate > 0 and rng.random() < project.control_rate:
        control_id = control_next_id(project_id=project.pk, user=user)
        lease = control_id and control_serve(control_id=control_id, user=user, now=now, expires=now + _ttl(),
                                             ahead_in=ahead_in)
        if lease:
            _announce(lease, user)
            return lease
    for _ in range(CLAIM_ATTEMPTS):
        with transaction.atomic():
            _relaxed_commit()
            picked = _pick(project, user, now, rng)
            if picked is None:
                return None
            item_id, state = picked
            claim = WorkItem.objects.filter(pk=item_id, state=state)
            if state == ItemState.LEASED:
                claim = claim.filter(lease_expires_at__lt=now)
            expires = now + _ttl()
            if not claim.update(state=ItemState.LEASED, lease_holder=user, lease_expires_at=expires, updated_at=now):
                continue  # somebody else claimed it between our read and our write: pick again
            previous = state
            if state == ItemState.LEASED:
                stale = Lease.objects.filter(item_id=item_id, ended_at__isnull=True).first()
                previous = stale.previous_state if stale else ItemState.NEW
                Lease.objects.filter(item_id=item_id, ended_at__isnull=True).update(
                    ended_at=now, end_reason=Lease.End.EXPIRED)
            lease = Lease.objects.create(item_id=item_id, holder=user, previous_state=previous, expires_at=expires,
                                         ahead_in_id=ahead_in)
            lease.item = WorkItem(pk=item_id, project_id=project.pk, state=ItemState.LEASED)
            _announce(lease, user)
            return lease
    raise Conflict("the queue is under heavy contention; try again")


def _open_lease(token, user) -> Lease:
    lease = Lease.objects.select_related("item").filter(token=token).first()
    if lease is None:
        raise NotFound("no such lease")
    if lease.holder_id != user.pk:
        raise NotAllowed("this lease belongs to another operator")
    if lease.ended_at is not None:
        raise Gone(f"this lease has ended ({lease.end_reason}); take the item again")
    return lease


@transaction.atomic
def lease_heartbeat(*, token, user) -> Lease:
    """Extend a live lease. One that expired is renewed only while nobody else has taken the item."""
    lease = _open_lease(token, user)
    now = timezone.now()
    lease.expires_at = now + _ttl()
    renewed = WorkItem.objects.filter(pk=lease.item_id, state=ItemState.LEASED, lease_holder=user).update(
        lease_expires_at=lease.expires_at, updated_at=now)
    if not renewed:
        raise Gone("the lease expired and the item went back to the queue")
    Lease.objects.filter(pk=lease.pk).update(expires_at=lease.expires_at)
    return lease


@transaction.atomic
def lease_release(*, token, user) -> None:
    """Give the item back to the queue untouched."""
    lease = _open_lease(token, user)
    now = timezone.now()
    WorkItem.objects.filter(pk=lease.item_id, state=ItemState.LEASED, lease_holder=user).update(
        state=lease.previous_state, lease_holder=None, lease_expires_at=None, updated_at=now)
    Lease.objects.filter(pk=lease.pk).update(ended_at=now, end_reason=Lease.End.RELEASED)
    lease.item.state = lease.previous_state
    item_event(lease.item, "lease.released", holder=user.get_username())
    depth_event(lease.item.project_id)


def lease_end_for_submit(*, item: WorkItem, user, now) -> None:
    Lease.objects.filter(item=item, ended_at__isnull=True).update(ended_at=now, end_reason=Lease.End.SUBMITTED)


def lease_expire_stale() -> int:
    """Return items whose lease ran out to the queue (the periodic sweep; take-next also reclaims them)."""
    now = timezone.now()
    count = 0
    stale = Lease.objects.filter(ended_at__isnull=True, expires_at__lt=now).select_related("item")[:1000]
    for lease in stale:
        with transaction.atomic():
            done = WorkItem.objects.filter(pk=lease.item_id, state=ItemState.LEASED, lease_expires_at__lt=now).update(
                state=lease.previous_state, lease_holder=None, lease_expires_at=None, updated_at=now)
            Lease.objects.filter(pk=lease.pk, ended_at__isnull=True).update(ended_at=now, end_reason=Lease.End.EXPIRED)
            if done:
                count += 1
                lease.item.state = lease.previous_state
                item_event(lease.item, "lease.expired")
                depth_event(lease.item.project_id)
    return count
