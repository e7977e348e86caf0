"""What a run trains and is judged on, read from the database.

- new corrections: accepted items of the scope's training pool accepted since the last successful run
  took its data (and not used by it);
- replay: older accepted pool items, drawn round-robin across slices (publisher, defect type, symbol
  class) so that rare slices are not crowded out;
- golden set: accepted items with split=golden, never trained on.
"""
from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from webapp.labeling.kinds import get_kind
from webapp.labeling.models import ItemState, WorkItem
from webapp.mlops.models import TrainingRun


OVERLAP = timedelta(seconds=30)


@dataclass
class Correction:
    item_id: int
    revision_id: int
    created_at: object


def _accepted(kind: str, scope_key: str, split: str):
    return (WorkItem.objects.filter(project__kind=kind, project__scope_key=scope_key, state=ItemState.ACCEPTED,
                                    split=split, head_revision__isnull=False))


def watermark(kind: str, scope_key: str) -> dict:
    """What the scope's last successful run took: its data cutoff time and the revisions it used."""
    run = (TrainingRun.objects.filter(kind=kind, scope_key=scope_key, state=TrainingRun.State.SUCCEEDED)
           .order_by("-id").only("params").first())
    params = (run.params or {}) if run else {}
    return {"cutoff": params.get("cutoff"), "used": params.get("used_revisions", [])}


def new_corrections(kind: str, scope_key: str, mark: dict | None = None) -> list[Correction]:
    """Accepted pool items accepted after the last run's cutoff (an accepted item's ``updated_at`` is its
    acceptance time) whose revision that run did not use. Acceptance time, not revision id: a correction
    submitted early and accepted late still counts. The overlap window catches acceptances that committed
    just after the cutoff with an earlier timestamp; the used revisions keep them from counting twice."""
    mark = watermark(kind, scope_key) if mark is None else mark
    qs = _accepted(kind, scope_key, WorkItem.Split.POOL)
    if mark.get("cutoff"):
        qs = qs.filter(updated_at__gt=datetime.fromisoformat(mark["cutoff"]) - OVERLAP)
    rows = qs.order_by("updated_at", "id").values_list("pk", "head_revision_id", "updated_at")
    used = set(mark.get("used") or [])
    return [Correction(*row) for row in rows if row[1] not in used]


def replay_ids(kind: str, scope_key: str, *, exclude: set[int], count: int, seed: int) -> list[int]:
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


def golden_ids(kind: str, scope_key: str) -> list[int]:
    return list(_accepted(kind, scope_key, WorkItem.Split.GOLDEN).order_by("id").values_list("pk", flat=True))


def snapshot_id(pairs: list[tuple[int, int]], extra: str = "") -> str:
    """Identity of a training set: a hash of its sorted (item id, revision id) pairs (+ generated data)."""
    text = ";".join(f"{i}:{r}" for i, r in sorted(pairs)) + (f"|{extra}" if extra else "")
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
