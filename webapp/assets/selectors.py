"""Reads of the assets app."""
from __future__ import annotations

from webapp.assets.models import Asset
from webapp.core.errors import NotFound


def asset_get(*, asset_id: int) -> Asset:
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        raise NotFound(f"no asset with id {asset_id}")
    return asset
