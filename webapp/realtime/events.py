"""Live events to browsers over the channel layer, always sent after the transaction commits.

Groups: ``project-<id>`` (leases, revisions, reviews, predictions, queue depth of one project),
``overview`` (queue depths of all projects), ``mlops`` (training progress, new versions, promotions).
"""
from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)


def project_group(project_id: int) -> str:
    return f"project-{project_id}"


OVERVIEW_GROUP = "overview"
MLOPS_GROUP = "mlops"


def send_now(group: str, event: str, payload: dict[str, Any]) -> None:
    """Send immediately (outside a transaction, e.g. from a worker's progress callback)."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "loupe.event", "event": event, "payload": payload, "at": timezone.now().isoformat()}
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - a dropped live event must never fail the write that caused it
        log.warning("could not send %s to %s", event, group, exc_info=True)


def publish(group: str, event: str, payload: dict[str, Any]) -> None:
    """Send once the surrounding transaction commits (immediately when there is none)."""
    transaction.on_commit(lambda: send_now(group, event, payload))
