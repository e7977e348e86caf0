"""Verified alignments as JSON (a homography per pair) for ground-truth transfer, streamed and read back."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from formats.common.items import ExportedItem


def alignment_row(item: ExportedItem) -> dict[str, Any]:
    original, photo = item.assets
    return {"item": item.item_id, "external_id": item.external_id,
            "original": original["name"], "original_sha256": original.get("sha256", ""),
            "photo": photo["name"], "photo_sha256": photo.get("sha256", ""),
            "status": item.annotation["status"], "homography": item.annotation["homography"],
            "point_pairs": item.annotation["point_pairs"], "reasons": item.annotation["reasons"]}


def to_alignments_json(items: Iterable[ExportedItem]) -> Iterator[str]:
    yield '{"alignments": ['
    for n, item in enumerate(items):
        yield ("" if n == 0 else ",\n") + json.dumps(alignment_row(item))
    yield "]}\n"


def from_alignments_json(text: str | bytes) -> dict[int, dict[str, Any]]:
    """{item id: annotation} of an alignments document."""
    doc = json.loads(text)
    return {row["item"]: {k: row[k] for k in ("status", "homography", "point_pairs", "reasons")}
            for row in doc["alignments"]}
