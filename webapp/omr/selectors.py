"""Reads of the omr kind."""
from __future__ import annotations

from typing import Any

from django.core.cache import cache

RESULT_SECONDS = 3600


def recompute_key(request_id: str) -> str:
    return f"omr-recompute:{request_id}"


def alignment_recompute_get(*, item_id: int, request_id: str) -> dict[str, Any] | None:
    """A recompute request's state ({"state": "pending"} until the worker answers), None when unknown or
    expired, or when it belongs to another item."""
    body = cache.get(recompute_key(request_id))
    return body if body and body.get("item") == item_id else None
