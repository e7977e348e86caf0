"""One accepted item as the writers see it (the web app builds these from its database, ml from files)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExportedItem:
    item_id: int
    external_id: str
    assets: list[dict[str, Any]]  # {"id", "name", "width", "height", "sha256", "role"}; "id" optional
    annotation: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        """A file-name stem for per-item files: the external id, else the item id."""
        return (self.external_id or f"item-{self.item_id}").replace("/", "_").replace("\\", "_")
