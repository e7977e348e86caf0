"""Monitoring reads (selectors): is the loop healthy, and does each promoted model need fewer corrections?

- queue per project: depth by state and the age of the oldest item waiting;
- throughput per operator: human revisions per author and project in a window;
- edits per human revision per day (changes against the proposal it started from), with the promotions
  of the project's scope on the same time axis;
- the learning curve: edits per item by the model version that proposed, in the order the work was done;
- the share of fresh model predictions flagged out-of-distribution (``scores.flagged``) per project;
- the Celery workers by their heartbeats: queues, device (CPU / GPU), last heartbeat.
"""
from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Min
from django.utils import timezone

from webapp.labeling.models import ItemState, Prediction, Project, Revision, WorkItem
from webapp.labeling.selectors import project_list_with_depths
from webapp.mlops.models import PromotionAudit, WorkerHeartbeat

WAITING = (ItemState.NEW, ItemState.PREDICTED, ItemState.SENT_BACK)


def queue_overview(*, now=None) -> list[dict]:
    now = now or timezone.now()
    oldest = dict(WorkItem.objects.filter(state__in=WAITING).values("project").annotate(t=Min("created_at"))
                  .values_list("project", "t"))
    return [{"project": p, "depth": depth,
             "oldest_age_s": (now - oldest[p.pk]).total_seconds() if p.pk in oldest else None}
            for p, depth in project_list_with_depths()]


def operator_throughput(*, since) -> list[dict]:
    rows = (Revision.objects.filter(source=Revision.Source.HUMAN, created_at__gte=since, author__isnull=False)
            .values("author__username", "item__project__name").annotate(n=Count("id"))
            .order_by("author__username", "item__project__name"))
    return [{"operator": r["author__username"], "project": r["item__project__name"], "revisions": r["n"]} for r in rows]


def _changes(diff) -> int:
    if isinstance(diff, dict):
        return len(diff.get("changes") or [])
    return len(diff) if isinstance(diff, list) else 0


def edits_per_day(*, project: Project, since) -> dict:
    """Per day: human revisions and their mean number of changes against the proposal; and the scope's
    promotions (and roll-backs) in the window, to read whether each model needed fewer corrections."""
    days: dict = defaultdict(lambda: [0, 0])
    for created, diff in (Revision.objects.filter(item__project=project, source=Revision.Source.HUMAN,
                                                  created_at__gte=since).values_list("created_at", "diff")
                          .iterator(chunk_size=2000)):
        day = timezone.localtime(created).date()
        days[day][0] += 1
        days[day][1] += _changes(diff)
    series = [{"day": d, "revisions": n, "edits_per_revision": round(e / n, 3)} for d, (n, e) in sorted(days.items())]
    promotions = list(PromotionAudit.objects.filter(kind=project.kind, scope_key=project.scope_key,
                                                    created_at__gte=since).select_related("to_version")
                      .order_by("created_at"))
    return {"series": series, "promotions": promotions}


LEARNING_BLOCK = 10   # human revisions per point of the learning curve


def learning_curve(*, project: Project, since, block: int = LEARNING_BLOCK) -> dict:
    """Does the loop learn? The project's human revisions that started from a model's proposal, oldest
    first: per proposing version (its number) the revisions and mean edits against the proposal; and in
    blocks of ``block`` revisions, the mean edits and the versions that proposed in the block."""
    rows = list(Revision.objects.filter(item__project=project, source=Revision.Source.HUMAN, created_at__gte=since,
                                        from_prediction__model_version__isnull=False)
                .order_by("created_at", "id")
                .values_list("created_at", "edit_count", "from_prediction__model_version__number"))
    versions: dict[int, list] = {}
    for created, edits, number in rows:
        entry = versions.setdefault(number, [0, 0, created, created])
        entry[0] += 1
        entry[1] += edits
        entry[3] = created
    by_version = [{"version": v, "revisions": n, "edits_per_item": round(e / n, 3), "first": first, "last": last}
                  for v, (n, e, first, last) in sorted(versions.items(), key=lambda kv: kv[1][2])]
    blocks = []
    for start in range(0, len(rows), block):
        chunk = rows[start:start + block]
        blocks.append({"items": f"{start + 1}-{start + len(chunk)}", "until": chunk[-1][0],
                       "edits_per_item": round(sum(r[1] for r in chunk) / len(chunk), 3),
                       "versions": sorted({r[2] for r in chunk})})
    return {"by_version": by_version, "blocks": blocks}


def ood_share(*, since) -> list[dict]:
    """Fresh model predictions per project and how many were flagged out-of-distribution."""
    rows = defaultdict(lambda: [0, 0])
    qs = Prediction.objects.filter(source=Prediction.Source.MODEL, stale=False, created_at__gte=since)
    for project, flagged in qs.values_list("item__project__name", "scores__flagged").iterator(chunk_size=5000):
        rows[project][0] += 1
        rows[project][1] += flagged in (True, 1, "true")   # JSON true, however the database returns it
    return [{"project": p, "predictions": n, "flagged": f, "share": f / n if n else None}
            for p, (n, f) in sorted(rows.items())]


def workers_now(*, now=None) -> list[dict]:
    """Every worker that has sent a heartbeat: its queues, device and last heartbeat; ``alive`` while it
    has missed fewer than three beats and did not shut down."""
    from django.conf import settings

    now = now or timezone.now()
    silent_after = 3 * settings.LOUPE_WORKER_HEARTBEAT_SECONDS
    out = []
    for w in WorkerHeartbeat.objects.order_by("name"):
        age = (now - w.last_seen).total_seconds()
        out.append({"name": w.name, "queues": w.queues, "device": w.device, "pid": w.pid, "started_at": w.started_at,
                    "last_seen": w.last_seen, "age_s": round(age, 1), "stopped_at": w.stopped_at,
                    "alive": w.stopped_at is None and age < silent_after})
    return out
