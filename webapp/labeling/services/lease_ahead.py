"""Leasing ahead: an operator working on one item of a project also holds the item they will do next, so
that the workspace has it drawn the moment they move on, without waiting for take-next.

The rules, each kept by the database or by one place here:
- at most two live leases per operator and project: the current item and one ahead (the ahead lease is
  marked with ``Lease.ahead_in``; the partial unique index ``one_open_lease_ahead_per_holder_and_project``
  refuses a second one, so even two racing calls of the same operator cannot take two);
- a lease ahead is taken only beside a current item: an operator holding nothing takes an item with
  take-next first;
- it is claimed like any take-next (``leases.lease_claim``): never an item somebody holds, skips respected
  (the cool-down), control items served blind at the project's rate, the audit slice and the policy's order;
- it is a lease like any other: it beats, expires (the sweep and take-next return it to the queue), can be
  released (the workspace releases it when the page is left), and ends on submit, skip or flag;
- moving on makes it the current item: take-next hands it back (``lease_take_next``), and so does the next
  call here when the operator no longer holds a current item.
"""
from __future__ import annotations

import random

from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.accounts.permissions import require
from webapp.core.errors import Conflict
from webapp.labeling.models import Lease
from webapp.labeling.services.leases import lease_ahead_promote, lease_claim


def _live(*, project_id: int, user, now):
    return (Lease.objects.filter(item__project_id=project_id, holder=user, ended_at__isnull=True, expires_at__gt=now)
            .select_related("item").order_by("id"))


def lease_take_ahead(*, project_id: int, user, rng: random.Random | None = None) -> Lease | None:
    """Lease the item after the operator's current one; their lease ahead if they hold one already; ``None``
    when the queue has nothing more. Raises Conflict when they hold no current item in the project."""
    require(user, "item.label", project_id=project_id)
    now = timezone.now()
    live = list(_live(project_id=project_id, user=user, now=now)[:3])
    ahead = next((lease for lease in live if lease.ahead_in_id is not None), None)
    current = [lease for lease in live if lease.ahead_in_id is None]
    if ahead is not None and current:
        return ahead
    if ahead is not None:
        lease_ahead_promote(ahead)  # the operator moved on to it: a new one is leased ahead of it
    elif not current:
        raise Conflict("no item is leased to you in this project: take one first (take-next), then lease ahead")
    try:
        with transaction.atomic():
            return lease_claim(project_id=project_id, user=user, now=now, rng=rng or random.Random(), ahead=True)
    except IntegrityError:
        # another call of the same operator leased one ahead a moment ago: that one is theirs
        won = Lease.objects.filter(holder=user, ahead_in_id=project_id, ended_at__isnull=True).select_related("item")
        lease = won.first()
        if lease is None:
            raise Conflict("the queue is under heavy contention; try again") from None
        return lease
