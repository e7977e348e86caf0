"""Reads of the labeling core: queue depths, item lists and details, export rows."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from statistics import median

from django.conf import settings
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from webapp.core.errors import NotFound
from webapp.labeling.diff import json_diff
from webapp.labeling.kinds import AssetDims, ExportedItem, get_kind
from webapp.labeling.models import (
    QUEUEABLE_STATES, Draft, Flag, ItemState, Lease, Prediction, Project, Review, Revision, WorkItem, WorkItemAsset,
)

# Operators' copies of control items are not part of the project's queue or its work (see services.controls).
_STATE_COUNTS = {state: Count("items", filter=Q(items__state=state, items__control_copy=False))
                 for state in ItemState.values}


def _depth_from_counts(counts: dict[str, int]) -> dict[str, int]:
    queued = counts[ItemState.NEW] + counts[ItemState.PREDICTED] + counts[ItemState.SENT_BACK]
    return {"queued": queued, "total": sum(counts.values()), **counts}


def queue_depth(*, project_id: int) -> dict[str, int]:
    rows = (WorkItem.objects.filter(project_id=project_id, control_copy=False).values("state")
            .annotate(n=Count("id")))
    counts = {state: 0 for state in ItemState.values}
    counts.update({row["state"]: row["n"] for row in rows})
    return _depth_from_counts(counts)


def project_list(*, project_ids: set[int] | None = None) -> QuerySet[Project]:
    """Projects by name; ``project_ids`` limits them to those (``None``: all)."""
    qs = Project.objects.order_by("name")
    return qs if project_ids is None else qs.filter(pk__in=project_ids)


def project_list_with_depths(*, project_ids: set[int] | None = None) -> list[tuple[Project, dict[str, int]]]:
    """The projects (all, or those of ``project_ids``) with their counts per state, in one query."""
    projects = project_list(project_ids=project_ids).annotate(**{f"n_{s}": c for s, c in _STATE_COUNTS.items()})
    return [(p, _depth_from_counts({s: getattr(p, f"n_{s}") for s in ItemState.values})) for p in projects]


def project_get(*, project_id: int | None = None, slug: str | None = None) -> Project:
    return Project.objects.get(pk=project_id) if project_id is not None else Project.objects.get(slug=slug)


def item_asset_dims(*, item_id: int) -> list[AssetDims]:
    links = WorkItemAsset.objects.filter(item_id=item_id).select_related("asset").only(
        "role", "position", "asset__width", "asset__height").order_by("position")
    return [AssetDims(width=link.asset.width, height=link.asset.height, role=link.role) for link in links]


_ITEM_DIMS_SQL = (
    "(SELECT coalesce(json_agg(json_build_array(a.width, a.height, l.role) ORDER BY l.position), '[]'::json) "
    "FROM labeling_workitemasset l JOIN assets_asset a ON a.id = l.asset_id WHERE l.item_id = labeling_workitem.id)")


def item_model_proposal(*, item_id: int) -> dict | None:
    """The item's fresh model proposal ({"id", "payload", "scores"}), what the suspect-label check weighs an
    accepted answer against; None without one."""
    return (Prediction.objects.filter(item_id=item_id, source=Prediction.Source.MODEL, stale=False)
            .order_by("-id").values("id", "payload", "scores").first())


def item_for_submit(*, item_id: int) -> tuple[WorkItem, list[AssetDims], dict | None]:
    """The item with its project and head revision (and its author), its images' sizes, and where a submit
    may accept the answer at once (no review, or review by risk) the item's fresh model proposal: what a
    submit reads before it writes. One query on PostgreSQL (the sizes and the proposal as JSON in the same
    row), two or three elsewhere. Raises ``WorkItem.DoesNotExist``."""
    if connection.vendor != "postgresql":
        item = WorkItem.objects.select_related("project", "head_revision__author").get(pk=item_id)
        project = item.project
        may_accept = (not project.review_required or project.review_sample_share < 1) and not item.control_copy
        return item, item_asset_dims(item_id=item.pk), item_model_proposal(item_id=item.pk) if may_accept else None
    # Plain SQL: building this ORM query cost more CPU than PostgreSQL spends answering it. The instances
    # are made as the ORM makes them (``from_db``): a field not read here loads on first use.
    with connection.cursor() as cursor:
        cursor.execute(_SUBMIT_READ_SQL, [item_id])
        row = cursor.fetchone()
    if row is None:
        raise WorkItem.DoesNotExist(f"no work item {item_id}")
    n_item, n_project = len(_SUBMIT_ITEM_FIELDS), len(_SUBMIT_PROJECT_FIELDS)
    item = _from_db(WorkItem, dict(zip(_SUBMIT_ITEM_FIELDS, row[:n_item])))
    project = dict(zip(_SUBMIT_PROJECT_FIELDS, row[n_item:n_item + n_project]))
    project["suspect_thresholds"] = Project._meta.get_field("suspect_thresholds").from_db_value(
        project["suspect_thresholds"], None, connection)
    item.project = _from_db(Project, project)
    item.head_revision = None
    head_at = n_item + n_project
    if row[head_at] is not None:
        head = dict(zip(("id", "number", "annotation", "author_id", "created_at"), row[head_at:head_at + 5]))
        head["annotation"] = Revision._meta.get_field("annotation").from_db_value(head["annotation"], None, connection)
        item.head_revision = _from_db(Revision, head)
    dims, proposal = row[head_at + 5], row[head_at + 6]
    if proposal is not None:
        proposal = dict(zip(("id", "payload", "scores"), proposal))
    return item, [AssetDims(width=w, height=h, role=role) for w, h, role in dims], proposal


def _from_db(model, values: dict):
    """An instance as the ORM loads one with only these fields (``from_db`` wants them in field order)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


_SUBMIT_ITEM_FIELDS = ("id", "project_id", "state", "lease_holder_id", "lease_expires_at", "head_revision_id",
                       "control_copy", "uncertainty")
_SUBMIT_PROJECT_FIELDS = ("id", "kind", "review_required", "review_sample_share", "review_full_below_accuracy",
                          "suspect_thresholds", "review_audit_share", "double_answer_share")
# The proposal is read where the answer may be accepted at once: without review, or with review by risk.
_SUBMIT_READ_SQL = f"""
SELECT i.id, i.project_id, i.state, i.lease_holder_id, i.lease_expires_at, i.head_revision_id, i.control_copy,
       i.uncertainty, p.id, p.kind, p.review_required, p.review_sample_share, p.review_full_below_accuracy,
       p.suspect_thresholds, p.review_audit_share, p.double_answer_share,
       r.id, r.number, r.annotation, r.author_id, r.created_at,
       {_ITEM_DIMS_SQL.replace("labeling_workitem.id", "i.id")},
       CASE WHEN (NOT p.review_required OR p.review_sample_share < 1) AND NOT i.control_copy THEN
           (SELECT json_build_array(m.id, m.payload, m.scores) FROM labeling_prediction m
            WHERE m.item_id = i.id AND m.source = 'model' AND NOT m.stale ORDER BY m.id DESC LIMIT 1) END
FROM labeling_workitem i JOIN labeling_project p ON p.id = i.project_id
LEFT JOIN labeling_revision r ON r.id = i.head_revision_id
WHERE i.id = %s
"""


def items_asset_dims(*, item_ids: list[int]) -> dict[int, list[AssetDims]]:
    """``item_asset_dims`` for many items in one query."""
    out: dict[int, list[AssetDims]] = {i: [] for i in item_ids}
    links = (WorkItemAsset.objects.filter(item_id__in=item_ids).select_related("asset")
             .only("item_id", "role", "position", "asset__width", "asset__height").order_by("item_id", "position"))
    for link in links:
        out[link.item_id].append(AssetDims(width=link.asset.width, height=link.asset.height, role=link.role))
    return out


def _with_assets(qs: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    return qs.prefetch_related(
        Prefetch("item_assets", queryset=WorkItemAsset.objects.select_related("asset").order_by("position")))


def item_list(*, project_id: int, state: str | None = None, split: str | None = None) -> QuerySet[WorkItem]:
    qs = (WorkItem.objects.filter(project_id=project_id, control_copy=False)
          .select_related("head_revision", "lease_holder"))
    if state:
        qs = qs.filter(state=state)
    if split:
        qs = qs.filter(split=split)
    return _with_assets(qs).order_by("id")


def item_detail(*, item_id: int) -> WorkItem:
    qs = WorkItem.objects.select_related("project", "head_revision__author", "lease_holder")
    qs = _with_assets(qs).prefetch_related(
        Prefetch("predictions", queryset=Prediction.objects.select_related("model_version").order_by("-id")),
        "reviews__reviewer")
    try:
        return qs.get(pk=item_id)
    except WorkItem.DoesNotExist:
        raise NotFound(f"no work item {item_id}") from None


def queue_candidates(*, project: Project, user, now) -> tuple[QuerySet[WorkItem], QuerySet[WorkItem]]:
    """What take-next chooses from for ``user`` at ``now``: the items whose lease ran out (oldest first),
    and the queue (unordered: the audit slice draws from it; ``queue_ordered`` gives the policy's order).
    Items the operator skipped within the cool-down are in neither."""
    since = now - timedelta(seconds=settings.LOUPE_SKIP_COOLDOWN_SECONDS)
    skipped = Lease.objects.filter(holder=user, end_reason=Lease.End.SKIPPED, ended_at__gte=since).values("item_id")
    expired = (WorkItem.objects.filter(project=project, state=ItemState.LEASED, lease_expires_at__lt=now,
                                       control_copy=False)
               .exclude(pk__in=skipped).order_by("lease_expires_at").only("id", "state"))
    # A control copy an operator let go stays theirs: it is never offered to anyone else.
    queue = (WorkItem.objects.filter(project=project, state__in=QUEUEABLE_STATES, control_copy=False)
             .exclude(pk__in=skipped).only("id", "state"))
    return expired, queue


def queue_ordered(*, project: Project, queue: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    if project.queue_policy == Project.QueuePolicy.UNCERTAINTY:
        return queue.order_by("-queue_rank", "id")
    return queue.order_by("id")


def item_up_next(*, project: Project, user) -> WorkItem | None:
    """The item take-next would most likely give ``user`` now, without taking it (no lock, no draw of the
    audit slice), with its images: the workspace fetches them while the operator works on the current
    item. A guess, never a promise: another operator may take it first."""
    expired, queue = queue_candidates(project=project, user=user, now=timezone.now())
    return (_with_assets(expired)[:1] or _with_assets(queue_ordered(project=project, queue=queue))[:1] or [None])[0]


def prediction_get(*, prediction_id: int) -> Prediction | None:
    return Prediction.objects.filter(pk=prediction_id).only("id", "item_id", "model_version_id").first()


def item_fresh_prediction(item: WorkItem) -> Prediction | None:
    """The proposal shown to the operator: the newest imported annotation that is not stale, else the newest
    model prediction that is not stale (uses the prefetched list when present)."""
    fresh = [p for p in item.predictions.all() if not p.stale]
    return next((p for p in fresh if p.source == Prediction.Source.IMPORT), fresh[0] if fresh else None)


def lease_held(*, item_id: int, user) -> Lease | None:
    """The caller's live lease on an item, if any: the item page finds it here, never in the URL."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (Lease.objects.filter(item_id=item_id, holder=user, ended_at__isnull=True,
                                 item__state=ItemState.LEASED, item__lease_holder=user)
            .order_by("-created_at").first())


def draft_get(*, item_id: int, user) -> Draft | None:
    """The caller's draft of an item (drafts are private: nobody reads another operator's)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Draft.objects.filter(item_id=item_id, user=user).first()


def review_last_send_back(*, item: WorkItem) -> Review | None:
    """The review that sent the item's current revision back, while the item waits for its fix (sent
    back, or taken again from there): the operator sees what to fix when it comes back to them."""
    head_id = item.head_revision_id
    if head_id is None:
        return None
    reviews = [r for r in item.reviews.all() if r.revision_id == head_id]   # prefetched: newest first
    latest = reviews[0] if reviews else None
    return latest if latest is not None and latest.decision == Review.Decision.SEND_BACK else None


def flag_list(*, project_id: int, open_only: bool = False) -> QuerySet[Flag]:
    qs = Flag.objects.filter(item__project_id=project_id).select_related("author", "resolved_by", "item")
    if open_only:
        qs = qs.filter(resolved_at__isnull=True)
    return qs.order_by("-id")


def flag_open(*, item_id: int) -> Flag | None:
    return Flag.objects.filter(item_id=item_id, resolved_at__isnull=True).select_related("author").first()


def revision_review_diff(*, item_id: int, revision: int | None = None) -> dict:
    """A revision (default: the current one) against what it started from: the model's proposal it was
    made from, else the revision it was based on, else nothing. Shapes come from the kind's diff hook; a
    kind without one gets the structural JSON changes only (``"supported": false``)."""
    item = WorkItem.objects.select_related("project").filter(pk=item_id).first()
    if item is None:
        raise NotFound(f"no work item {item_id}")
    qs = Revision.objects.filter(item=item).select_related("base", "from_prediction")
    rev = qs.filter(number=revision).first() if revision is not None else qs.filter(pk=item.head_revision_id).first()
    if rev is None:
        raise NotFound(f"item {item_id} has no revision {revision}" if revision is not None
                       else f"item {item_id} has no revision yet")
    if rev.from_prediction is not None:
        before, against = rev.from_prediction.payload, {"against": "proposal", "prediction": rev.from_prediction_id}
    elif rev.base is not None:
        before, against = rev.base.annotation, {"against": "previous", "base": rev.base.number}
    else:
        before, against = None, {"against": "empty"}
    spec = get_kind(item.project.kind)
    if spec.review_diff is not None:
        body = {"supported": True, **spec.review_diff(before, rev.annotation)}
    else:
        body = {"supported": False, "added": [], "removed": [], "changed": [],
                "changes": json_diff(before, rev.annotation)}
    counts = {k: len(body[k]) for k in ("added", "removed", "changed")}
    return {**against, "revision": rev.number, **body, "counts": counts, "metrics": rev.metrics}


LEASE_MATCH_SECONDS = 5.0   # a submit ends its lease within the same request as it writes the revision


def _period_figures(revisions: list[Revision], leases: dict[int, list[Lease]], sent_back: set[int],
                    reviewed: set[int]) -> dict:
    durations = []
    for rev in revisions:
        # The lease this submit ended: same item and operator, ended within moments of the revision.
        match = [lease for lease in leases.get(rev.item_id, [])
                 if abs((rev.created_at - lease.ended_at).total_seconds()) <= LEASE_MATCH_SECONDS]
        if match:
            durations.append((rev.created_at - match[0].created_at).total_seconds())
    mine_reviewed = [r.pk for r in revisions if r.pk in reviewed]
    return {
        "items": len({r.item_id for r in revisions}),
        "revisions": len(revisions),
        "median_seconds": round(median(durations), 1) if durations else None,
        "edits_per_item": round(sum(r.edit_count for r in revisions) / len(revisions), 2) if revisions else None,
        "reviewed": len(mine_reviewed),
        "sent_back_share": (round(sum(1 for pk in mine_reviewed if pk in sent_back) / len(mine_reviewed), 3)
                            if mine_reviewed else None),
    }


def work_summary(*, user, now=None) -> dict:
    """An operator's own figures for today and this week (since Monday, local time): items done (revisions
    submitted), median time per item from taking the lease to submitting, edits per item (against the
    proposal or revision it started from), and the share of their reviewed revisions that were sent back."""
    now = timezone.localtime(now or timezone.now())
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    revisions = list(Revision.objects.filter(author=user, source=Revision.Source.HUMAN, created_at__gte=week)
                     .only("id", "item_id", "created_at", "edit_count").order_by("created_at"))
    leases: dict[int, list[Lease]] = defaultdict(list)
    for lease in Lease.objects.filter(holder=user, end_reason=Lease.End.SUBMITTED, ended_at__gte=week).only(
            "id", "item_id", "created_at", "ended_at"):
        leases[lease.item_id].append(lease)
    decisions = Review.objects.filter(revision__in=[r.pk for r in revisions]).values_list("revision_id", "decision")
    reviewed = {rev for rev, _ in decisions}
    sent_back = {rev for rev, decision in decisions if decision == Review.Decision.SEND_BACK}
    return {
        "today": _period_figures([r for r in revisions if r.created_at >= today], leases, sent_back, reviewed),
        "week": _period_figures(revisions, leases, sent_back, reviewed),
        "since": {"today": today.isoformat(), "week": week.isoformat()},
    }


def revision_history(*, item_id: int) -> QuerySet[Revision]:
    return Revision.objects.filter(item_id=item_id).select_related("author", "model_version").order_by("number")


def review_queue(*, project_id: int) -> QuerySet[WorkItem]:
    return item_list(project_id=project_id, state=ItemState.SUBMITTED)


def export_rows(*, project_id: int, batch: int = 500) -> Iterator[ExportedItem]:
    """Accepted items with their final annotation, ready for a kind's export format, read in batches so
    that an export of a large project streams instead of loading every item at once. An image's
    ``id`` is its item link's primary key: stable across exports, so COCO image ids do not shift."""
    ids = list(WorkItem.objects.filter(project_id=project_id, state=ItemState.ACCEPTED,
                                       head_revision__isnull=False, control_copy=False)
               .order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), batch):
        items = _with_assets(WorkItem.objects.filter(pk__in=ids[start:start + batch])
                             .select_related("head_revision").order_by("id"))
        for i in items:
            yield ExportedItem(item_id=i.pk, external_id=i.external_id, meta=i.meta,
                               annotation=i.head_revision.annotation,
                               assets=[{"id": link.pk, "name": link.asset.original_name, "width": link.asset.width,
                                        "height": link.asset.height, "sha256": link.asset.sha256, "role": link.role}
                                       for link in i.item_assets.all()])
