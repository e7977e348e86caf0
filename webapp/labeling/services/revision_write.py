"""Writing a human revision: the revision row, the item's head and state (compare-and-set), the end of the
lease and the draft it replaces, all or nothing.

On PostgreSQL it is one statement (one round trip, one implicit transaction): the compare-and-set UPDATE
of the item runs first and takes the new revision's id from the sequence; the INSERT of the revision, the
lease's end and the draft's removal read the UPDATE's result, so when the item moved meanwhile (another
revision, another holder) nothing at all is written. The item's foreign key to its head revision is
checked at commit (Django declares it DEFERRABLE INITIALLY DEFERRED), after the revision row exists.
Other databases take the same steps in a short transaction.
"""
from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import datetime

from django.db import IntegrityError, connection, transaction

from webapp.labeling.models import Draft, Lease, Revision, WorkItem
from webapp.labeling.services.leases import lease_end_for_submit

APPEND_SQL = f"""
WITH moved AS (
    UPDATE labeling_workitem
    SET head_revision_id = nextval(pg_get_serial_sequence('labeling_revision', 'id')), state = %(new_state)s,
        lease_holder_id = NULL, lease_expires_at = NULL, updated_at = %(now)s
    WHERE id = %(item)s AND head_revision_id IS NOT DISTINCT FROM %(head)s AND state = %(state)s
      AND lease_holder_id IS NOT DISTINCT FROM %(holder)s
    RETURNING id, head_revision_id
), revision AS (
    INSERT INTO labeling_revision (id, item_id, number, base_id, author_id, source, model_version_id,
                                   from_prediction_id, annotation, diff, edit_count, metrics, created_at)
    SELECT head_revision_id, id, %(number)s, %(head)s, %(author)s, %(source)s, NULL, %(from_prediction)s,
           %(annotation)s::jsonb, %(diff)s::jsonb, %(edit_count)s, %(metrics)s::jsonb, %(now)s
    FROM moved
    RETURNING id
), ended AS (
    UPDATE labeling_lease SET ended_at = %(now)s, end_reason = '{Lease.End.SUBMITTED}'
    WHERE item_id IN (SELECT id FROM moved) AND ended_at IS NULL
), dropped AS (
    DELETE FROM labeling_draft WHERE item_id IN (SELECT id FROM moved) AND user_id = %(author)s
)
SELECT id FROM revision
"""


def revision_append(*, item: WorkItem, head: Revision | None, user, new_state: str, now: datetime,
                    fields: dict) -> Revision:
    """Append the revision described by ``fields`` (number, annotation, diff, edit_count, from_prediction_id,
    optionally metrics)
    on top of ``head``; raises ``IntegrityError`` when the item's head or lease moved since it was read."""
    if connection.vendor == "postgresql":
        return _append_one_statement(item=item, head=head, user=user, new_state=new_state, now=now, fields=fields)
    with transaction.atomic():
        revision = Revision.objects.create(item=item, base=head, author=user, source=Revision.Source.HUMAN,
                                           **fields)
        # Compare-and-set on the head, and on the lease as it was checked: a concurrent save based on
        # the same head, or a take-next between the check and this write, makes this save lose cleanly.
        moved = WorkItem.objects.filter(pk=item.pk, head_revision=head, state=item.state,
                                        lease_holder_id=item.lease_holder_id).update(
            head_revision=revision, state=new_state, lease_holder=None, lease_expires_at=None, updated_at=now)
        if not moved:
            raise IntegrityError("head or lease moved")
        lease_end_for_submit(item=item, user=user, now=now)
        # The draft became this revision: it goes in the same transaction (a failed submit keeps it).
        Draft.objects.filter(item=item, user=user).delete()
    return revision


def _append_one_statement(*, item, head, user, new_state, now, fields) -> Revision:
    params = {"item": item.pk, "head": head.pk if head else None, "state": item.state,
              "holder": item.lease_holder_id, "new_state": new_state, "now": now, "number": fields["number"],
              "author": user.pk, "source": Revision.Source.HUMAN, "from_prediction": fields["from_prediction_id"],
              "annotation": json.dumps(fields["annotation"]), "diff": json.dumps(fields["diff"]),
              "edit_count": fields["edit_count"],
              "metrics": None if fields.get("metrics") is None else json.dumps(fields["metrics"])}
    # Inside an outer transaction (a test, a caller's atomic block) a savepoint keeps a failed statement
    # from poisoning it; on its own the statement is its own transaction.
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(APPEND_SQL, params)
            row = cursor.fetchone()
    if row is None:
        raise IntegrityError("head or lease moved")
    revision = Revision(id=row[0], item=item, base=head, author=user, source=Revision.Source.HUMAN,
                        created_at=now, **fields)
    revision._state.adding = False
    revision._state.db = connection.alias
    return revision

