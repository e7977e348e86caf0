"""Reads of the omr kind."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.cache import cache

RESULT_SECONDS = 3600


def recompute_key(request_id: str) -> str:
    return f"omr-recompute:{request_id}"


def homography_key(*, item_id: int, homography: Any) -> str:
    """The cache key of the worker's result for this item and exactly this homography (nine significant
    digits: a JSON round trip through the page keeps them)."""
    text = json.dumps([[format(float(v), ".9g") for v in row] for row in homography])
    return f"omr-recompute:item:{item_id}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def alignment_recompute_for(*, item_id: int, homography: Any) -> dict[str, Any] | None:
    """The worker's finished recompute of this item that produced exactly ``homography`` (its metrics,
    verdict, reasons), None when there is none within the hour."""
    try:
        key = homography_key(item_id=item_id, homography=homography)
    except (TypeError, ValueError):
        return None
    body = cache.get(key)
    return body if body and body.get("item") == item_id and body.get("state") == "done" else None


def alignment_recompute_get(*, item_id: int, request_id: str) -> dict[str, Any] | None:
    """A recompute request's state ({"state": "pending"} until the worker answers), None when unknown or
    expired, or when it belongs to another item."""
    body = cache.get(recompute_key(request_id))
    return body if body and body.get("item") == item_id else None
