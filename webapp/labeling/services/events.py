"""Live events of the labeling core (sent on commit)."""
from django.db import transaction

from webapp.labeling.models import WorkItem
from webapp.labeling.selectors import queue_depth
from webapp.realtime.coalesce import coalescer
from webapp.realtime.events import OVERVIEW_GROUP, project_group, publish, send_now


def item_event(item: WorkItem, event: str, **extra) -> None:
    payload = {"item": item.pk, "state": item.state, **extra}
    publish(project_group(item.project_id), event, payload)


def depth_event(project_id: int) -> None:
    """Queue depth after a change: counted after commit, at most once per interval per project."""

    def _send():
        depth = queue_depth(project_id=project_id)
        send_now(project_group(project_id), "queue.depth", {"project": project_id, **depth})
        send_now(OVERVIEW_GROUP, "queue.depth", {"project": project_id, **depth})

    transaction.on_commit(lambda: coalescer.mark(f"depth:{project_id}", _send))
