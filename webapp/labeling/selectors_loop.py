"""Reads of the learning loop (the workers' side): which items a run trains and is judged on, which items
still need a prediction of a model version, and where an item's working copies are.

- new corrections: accepted items of the scope's training pool accepted since the last successful run
  took its data (and not used by it);
- replay: older accepted pool items, drawn round-robin across slices (publisher, defect type, symbol
  class) so that rare slices are not crowded out;
- golden set: accepted items with split=golden, never trained on;
- never: operators' copies of control items, nor answers waiting for re-review as suspect labels.
"""
from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from webapp.assets.models import Asset
from webapp.labeling.kinds import get_kind
from webapp.labeling.models import (
    QUEUEABLE_STATES, ItemState, Prediction, Project, SuspectLabel, WorkItem, WorkItemAsset,
)

# Acceptances that committed just after a run's cutoff with an earlier timestamp still count as new.
OVERLAP = timedelta(seconds=30)


@dataclass(frozen=True)
class Correction:
    item_id: int
    revision_id: int
    accepted_at: datetime   # an accepted item's last update is its acceptance


@dataclass
class ItemFiles:
    """One item as a model needs it: its working copies (store names, in asset order) and plain values."""

    item_id: int
    scope_key: str
    names: list[str]
    original_sizes: list[tuple[int, int]]    # (width, height) of each original
    roles: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    annotation: dict[str, Any] | None = None
    revision_id: int | None = None


# ---- projects and scopes -------------------------------------------------------------------------------
def project_find(*, project_id: int | None = None, slug: str | None = None) -> Project | None:
    """The project, or None (``project_get`` raises instead)."""
    qs = Project.objects.filter(pk=project_id) if project_id is not None else Project.objects.filter(slug=slug)
    return qs.first()


def project_list_of_scope(*, kind: str, scope_key: str | None = None) -> list[Project]:
    """The kind's projects (of one scope when ``scope_key`` is given), oldest first."""
    qs = Project.objects.filter(kind=kind)
    if scope_key is not None:
        qs = qs.filter(scope_key=scope_key)
    return list(qs.order_by("id"))


def project_scopes() -> list[tuple[str, str]]:
    """Every (kind, scope key) that has a project."""
    return list(Project.objects.values_list("kind", "scope_key").distinct().order_by("kind", "scope_key"))


def project_auto_promotes(*, kind: str, scope_key: str) -> bool:
    return Project.objects.filter(kind=kind, scope_key=scope_key, auto_promote=True).exists()


# ---- items to predict -------------------------------------------------------------------------------------
def _without_prediction(qs: QuerySet[WorkItem], version_id: int) -> QuerySet[WorkItem]:
    return qs.exclude(Exists(Prediction.objects.filter(item=OuterRef("pk"), model_version_id=version_id)))


def prediction_open_list(*, version_id: int) -> list[dict[str, Any]]:
    """The version's fresh predictions on unaccepted items (what an operating-threshold change re-scores):
    [{"item_id", "payload", "scores", "uncertainty"}], by item id."""
    qs = (Prediction.objects.filter(model_version_id=version_id, source=Prediction.Source.MODEL, stale=False)
          .exclude(item__state=ItemState.ACCEPTED).order_by("item_id"))
    return list(qs.values("item_id", "payload", "scores", "uncertainty"))


def item_exists_in_scope(*, kind: str, scope_key: str) -> bool:
    return WorkItem.objects.filter(project__kind=kind, project__scope_key=scope_key).exists()


def item_ids_by_scope(*, item_ids: Iterable[int]) -> dict[tuple[str, str], list[int]]:
    """The unaccepted ones of ``item_ids``, grouped by their project's (kind, scope key)."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, kind, scope in (WorkItem.objects.filter(pk__in=list(item_ids)).exclude(state=ItemState.ACCEPTED)
                            .values_list("pk", "project__kind", "project__scope_key")):
        groups[(kind, scope)].append(pk)
    return dict(groups)


def item_ids_without_prediction(*, item_ids: Iterable[int], version_id: int) -> list[int]:
    """Those of ``item_ids`` that have no prediction of the version yet."""
    qs = WorkItem.objects.filter(pk__in=list(item_ids))
    return list(_without_prediction(qs, version_id).values_list("pk", flat=True))


def item_unpredicted_ids(*, kind: str, scope_key: str, version_id: int, limit: int,
                         exclude: Iterable[int] = ()) -> list[int]:
    """Up to ``limit`` queueable items of the scope without a prediction of the version, oldest first."""
    qs = WorkItem.objects.filter(project__kind=kind, project__scope_key=scope_key, state__in=QUEUEABLE_STATES)
    qs = _without_prediction(qs, version_id).exclude(pk__in=list(exclude))
    return list(qs.order_by("id").values_list("pk", flat=True)[:max(0, limit)])


def item_rescore_ids(*, project_id: int, version_id: int) -> list[int]:
    """The project's unaccepted items without a prediction of the version, most uncertain first."""
    qs = _without_prediction(WorkItem.objects.filter(project_id=project_id).exclude(state=ItemState.ACCEPTED),
                             version_id)
    return list(qs.order_by("-queue_rank", "id").values_list("pk", flat=True))


def _with_links(qs: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    return qs.prefetch_related(Prefetch("item_assets", queryset=WorkItemAsset.objects.select_related("asset")
                                        .order_by("position")))


def _ready(item: WorkItem) -> bool:
    links = list(item.item_assets.all())
    return bool(links) and all(link.asset.derivatives == Asset.Derivatives.READY and link.asset.working_copy
                               for link in links)


def item_ready_ids(*, asset_id: int) -> list[int]:
    """The unaccepted items using the asset whose working copies are all ready."""
    items = _with_links(WorkItem.objects.filter(item_assets__asset_id=asset_id).exclude(state=ItemState.ACCEPTED)
                        .distinct())
    return [item.pk for item in items if _ready(item)]


def item_files_list(*, item_ids: Iterable[int], with_annotation: bool = False) -> list[ItemFiles]:
    """Items whose working copies are ready, in the order of ``item_ids`` (the others are left out); with
    ``with_annotation`` only those with a head revision, and its annotation."""
    ids = list(dict.fromkeys(item_ids))
    qs = _with_links(WorkItem.objects.filter(pk__in=ids).select_related("project", "head_revision"))
    by_id = {item.pk: item for item in qs}
    items = [by_id[i] for i in ids if i in by_id and _ready(by_id[i])]
    if with_annotation:
        items = [i for i in items if i.head_revision is not None]
    out = []
    for item in items:
        links = list(item.item_assets.all())
        out.append(ItemFiles(
            item_id=item.pk, scope_key=item.project.scope_key,
            names=[link.asset.working_copy for link in links],
            original_sizes=[(link.asset.width, link.asset.height) for link in links],
            roles=[link.role for link in links], meta=dict(item.meta or {}),
            annotation=item.head_revision.annotation if with_annotation else None,
            revision_id=item.head_revision_id))
    return out


# ---- what a run trains and is judged on --------------------------------------------------------------
def _accepted(kind: str, scope_key: str, split: str) -> QuerySet[WorkItem]:
    """Accepted items of the split, less operators' answers on control items (scored, never learned from)
    and answers under re-review (an open suspect label: used once a reviewer confirms or corrects them)."""
    under_review = SuspectLabel.objects.filter(item=OuterRef("pk"), state=SuspectLabel.State.OPEN)
    return (WorkItem.objects.filter(project__kind=kind, project__scope_key=scope_key, state=ItemState.ACCEPTED,
                                    split=split, head_revision__isnull=False, control_copy=False)
            .exclude(Exists(under_review)))


def correction_list_new(*, kind: str, scope_key: str, cutoff: str | None,
                        used_revisions: Iterable[int] = ()) -> list[Correction]:
    """Accepted pool items accepted after ``cutoff`` (an ISO time; None: all) whose revision is not among
    ``used_revisions``. Acceptance time, not revision id: a correction submitted early and accepted late
    still counts. The overlap window catches acceptances that committed just after the cutoff with an
    earlier timestamp; the used revisions keep them from counting twice."""
    qs = _accepted(kind, scope_key, WorkItem.Split.POOL)
    if cutoff:
        qs = qs.filter(updated_at__gt=datetime.fromisoformat(cutoff) - OVERLAP)
    rows = qs.order_by("updated_at", "id").values_list("pk", "head_revision_id", "updated_at")
    used = set(used_revisions)
    return [Correction(*row) for row in rows if row[1] not in used]


def item_replay_ids(*, kind: str, scope_key: str, exclude: set[int], count: int, seed: int) -> list[int]:
    """Up to ``count`` older accepted pool items, balanced across the kind's slices."""
    if count <= 0:
        return []
    spec = get_kind(kind)
    buckets: dict[str, list[int]] = defaultdict(list)
    rows = (_accepted(kind, scope_key, WorkItem.Split.POOL).exclude(pk__in=exclude)
            .values_list("pk", "head_revision__annotation", "meta"))
    for pk, annotation, meta in rows:
        for name in spec.slices(annotation or {}, meta or {}) or ["all"]:
            buckets[name].append(pk)
    rng = random.Random(seed)
    for ids in buckets.values():
        rng.shuffle(ids)
    chosen: list[int] = []
    seen: set[int] = set()
    order = sorted(buckets)
    while len(chosen) < count and any(buckets.values()):
        for name in order:
            while buckets[name]:
                pk = buckets[name].pop()
                if pk not in seen:
                    seen.add(pk)
                    chosen.append(pk)
                    break
            if len(chosen) >= count:
                break
    return chosen


def item_golden_ids(*, kind: str, scope_key: str) -> list[int]:
    return list(_accepted(kind, scope_key, WorkItem.Split.GOLDEN).order_by("id").values_list("pk", flat=True))


def item_count_by_external_prefix(*, project_id: int, prefix: str) -> int:
    """How many of the project's items have an external id starting with ``prefix``."""
    return WorkItem.objects.filter(project_id=project_id, external_id__startswith=prefix).count()


def golden_slice_counts(*, kind: str, scope_key: str) -> dict[str, int]:
    """How many accepted golden items of the scope each slice (defect type, set-up, publisher...) has."""
    spec, counts = get_kind(kind), defaultdict(int)
    for annotation, meta in _accepted(kind, scope_key, WorkItem.Split.GOLDEN).values_list("head_revision__annotation",
                                                                                         "meta"):
        for name in spec.slices(annotation or {}, meta or {}):
            counts[name] += 1
    return dict(counts)


def item_slices(*, kind: str, item_ids: Iterable[int]) -> dict[int, list[str]]:
    """The slices of each accepted item, from its head revision and meta."""
    spec = get_kind(kind)
    rows = WorkItem.objects.filter(pk__in=list(item_ids)).values_list("pk", "head_revision__annotation", "meta")
    return {pk: spec.slices(annotation or {}, meta or {}) for pk, annotation, meta in rows}


def item_revision_pairs(*, item_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(item id, head revision id) of the items."""
    return list(WorkItem.objects.filter(pk__in=list(item_ids)).values_list("pk", "head_revision_id"))
