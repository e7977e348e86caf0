"""Take-next on PostgreSQL in one statement: the project's queue settings, the operator's live lease, the
pick (``FOR UPDATE SKIP LOCKED``), the claim and the new lease row, in one round trip and one implicit
transaction.

What it decides is what ``leases._pick`` decides (audit slice with the project's share, then the policy's
order; never an item the operator skipped a moment ago), except one case it hands back: when the project
has an item whose lease expired, the caller takes the general path, which reclaims that item first and ends
its stale lease (rare: a lease runs for minutes and the sweep returns expired items every 30 s).

Control items: with the project's ``control_rate`` the statement names a control item the operator has not
been served (and whose truth they did not write) instead of claiming a queue item; the caller then makes
the operator's copy and its lease (``controls.control_serve``), a short transaction of its own. Every other
take-next stays this one statement.

Leasing ahead (``ahead``): the same pick and claim, for an operator who holds a current item, beside it; the
operator's live lease is then not handed back, and the new lease is marked as taken ahead.

Operator agreement: an item answered once waits for a second, blind answer; the statement names the oldest
such pair the operator may answer (``pair``: not theirs first, its copy held by nobody, not skipped by them a
moment ago), before any control or queue item, and the caller leases the pair's copy
(``pair_serving.pair_serve``).

Why it is safe: ``FOR UPDATE SKIP LOCKED`` locks the picked row, and a row changed since the statement's
snapshot is re-checked against the WHERE clause before it is locked (PostgreSQL's EvalPlanQual), so two
statements never claim the same item; the partial unique index ``one_open_lease_per_item`` stays the
backstop. The lease is ephemeral, so its commit does not wait for the WAL flush (``set_config`` with
``is_local``, the in-statement form of ``SET LOCAL synchronous_commit TO OFF``).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from webapp.labeling.models import QUEUEABLE_STATES, AnswerPair, ItemState, Lease, Project

_QUEUEABLE = ", ".join(f"'{state}'" for state in QUEUEABLE_STATES)
_CANDIDATES = f"""
    SELECT id, state FROM labeling_workitem
    WHERE project_id = %(project)s AND state IN ({_QUEUEABLE})
      AND NOT control_copy AND id NOT IN (SELECT item_id FROM skipped)
      AND NOT EXISTS (SELECT 1 FROM held) AND NOT EXISTS (SELECT 1 FROM expired)
      AND NOT EXISTS (SELECT 1 FROM control) AND NOT EXISTS (SELECT 1 FROM pair)"""

CLAIM_SQL = f"""
WITH proj AS (
    SELECT queue_policy, audit_share, control_rate FROM labeling_project WHERE id = %(project)s
), held AS (
    SELECT l.id FROM labeling_lease l JOIN labeling_workitem i ON i.id = l.item_id
    WHERE l.holder_id = %(user)s AND l.ended_at IS NULL AND l.expires_at > %(now)s AND i.project_id = %(project)s
      AND NOT %(ahead)s
    ORDER BY l.ahead_in_id IS NOT NULL, l.id LIMIT 1
), expired AS (
    SELECT 1 AS one FROM labeling_workitem
    WHERE project_id = %(project)s AND state = '{ItemState.LEASED}' AND lease_expires_at < %(now)s
      AND NOT control_copy LIMIT 1
), skipped AS (
    SELECT item_id FROM labeling_lease
    WHERE holder_id = %(user)s AND end_reason = '{Lease.End.SKIPPED}' AND ended_at >= %(skip_since)s
), pair AS (
    SELECT p.id FROM labeling_answerpair p LEFT JOIN labeling_workitem c ON c.id = p.second_copy_id
    WHERE p.project_id = %(project)s AND p.state = '{AnswerPair.State.WAITING}'
      AND p.first_operator_id IS DISTINCT FROM %(user)s
      AND (c.id IS NULL OR c.state IN ('{ItemState.NEW}', '{ItemState.PREDICTED}')
           OR (c.state = '{ItemState.LEASED}' AND c.lease_expires_at < %(now)s))
      AND (c.id IS NULL OR c.id NOT IN (SELECT item_id FROM skipped))
      AND NOT EXISTS (SELECT 1 FROM held) AND NOT EXISTS (SELECT 1 FROM expired)
    ORDER BY p.id LIMIT 1
), control AS (
    SELECT c.id FROM labeling_controlitem c JOIN labeling_revision t ON t.id = c.truth_id
    WHERE c.project_id = %(project)s AND c.active AND %(control_roll)s < (SELECT control_rate FROM proj)
      AND t.author_id IS DISTINCT FROM %(user)s
      AND NOT EXISTS (SELECT 1 FROM labeling_controlanswer a WHERE a.control_id = c.id AND a.operator_id = %(user)s)
      AND NOT EXISTS (SELECT 1 FROM held) AND NOT EXISTS (SELECT 1 FROM expired) AND NOT EXISTS (SELECT 1 FROM pair)
    ORDER BY random() LIMIT 1
), pick_audit AS (
    {_CANDIDATES}
      AND %(audit_roll)s < (SELECT audit_share FROM proj) AND audit_key >= %(audit_pivot)s
    ORDER BY audit_key LIMIT 1 FOR UPDATE SKIP LOCKED
), pick_fifo AS (
    {_CANDIDATES}
      AND (SELECT queue_policy FROM proj) = '{Project.QueuePolicy.FIFO}' AND NOT EXISTS (SELECT 1 FROM pick_audit)
    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
), pick_rank AS (
    {_CANDIDATES}
      AND (SELECT queue_policy FROM proj) = '{Project.QueuePolicy.UNCERTAINTY}'
      AND NOT EXISTS (SELECT 1 FROM pick_audit)
    ORDER BY queue_rank DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED
), pick AS (
    SELECT id, state FROM pick_audit UNION ALL SELECT id, state FROM pick_fifo
    UNION ALL SELECT id, state FROM pick_rank
), relaxed AS (
    SELECT set_config('synchronous_commit', 'off', true) AS setting
), claimed AS (
    UPDATE labeling_workitem w
    SET state = '{ItemState.LEASED}', lease_holder_id = %(user)s, lease_expires_at = %(expires)s, updated_at = %(now)s
    FROM pick, relaxed WHERE w.id = pick.id
    RETURNING w.id, pick.state AS previous
), created AS (
    INSERT INTO labeling_lease (item_id, holder_id, token, previous_state, created_at, expires_at, ended_at,
                                end_reason, ahead_in_id)
    SELECT id, %(user)s, %(token)s, previous, %(now)s, %(expires)s, NULL, '', %(ahead_in)s::bigint FROM claimed
    RETURNING id, item_id, token, previous_state, created_at, expires_at, ahead_in_id
)
SELECT 'taken', id, item_id, token, previous_state, created_at, expires_at, ahead_in_id FROM created
UNION ALL
SELECT 'held', l.id, l.item_id, l.token, l.previous_state, l.created_at, l.expires_at, l.ahead_in_id
FROM labeling_lease l WHERE l.id IN (SELECT id FROM held)
UNION ALL
SELECT 'expired', NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM expired WHERE NOT EXISTS (SELECT 1 FROM held)
UNION ALL
SELECT 'control', id, NULL, NULL, NULL, NULL, NULL, NULL FROM control
UNION ALL
SELECT 'pair', id, NULL, NULL, NULL, NULL, NULL, NULL FROM pair
UNION ALL
SELECT 'missing', NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM proj)
"""

LEASE_FIELDS = ("id", "item_id", "token", "previous_state", "created_at", "expires_at", "ahead_in_id")


@dataclass(frozen=True)
class ClaimOutcome:
    """``taken`` (a new lease), ``held`` (the operator's live lease), ``expired`` (take the general path),
    ``control`` (serve this control item: ``control_id``), ``pair`` (serve this pair's second answer:
    ``pair_id``), ``missing`` (no such project) or ``empty``
    (nothing to take)."""

    status: str
    lease: Lease | None = None
    control_id: int | None = None
    pair_id: int | None = None


def lease_claim_one_statement(*, project_id: int, user, now: datetime, expires: datetime, skip_since: datetime,
                              audit_roll: float, audit_pivot: float, control_roll: float,
                              ahead: bool = False) -> ClaimOutcome:
    """``ahead``: claim an item beside the operator's current one (their live lease is not handed back; the
    caller checked they hold one and none ahead); the new lease is marked ahead (``Lease.ahead_in``), and the
    database's ``one_open_lease_ahead_per_holder_and_project`` refuses a second one (IntegrityError)."""
    params = {"project": project_id, "user": user.pk, "now": now, "expires": expires, "skip_since": skip_since,
              "audit_roll": audit_roll, "audit_pivot": audit_pivot, "control_roll": control_roll,
              "token": uuid.uuid4(), "ahead": ahead, "ahead_in": project_id if ahead else None}
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, params)
        rows = cursor.fetchall()
    if not rows:
        return ClaimOutcome("empty")
    status, *values = rows[0]
    if status in ("expired", "missing"):
        return ClaimOutcome(status)
    if status == "control":
        return ClaimOutcome(status, control_id=values[0])
    if status == "pair":
        return ClaimOutcome(status, pair_id=values[0])
    lease = Lease.from_db(connection.alias, LEASE_FIELDS, values)
    lease.holder_id = user.pk
    lease.holder = user
    lease.ended_at, lease.end_reason = None, ""
    return ClaimOutcome(status, lease)
