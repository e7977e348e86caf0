"""Asset derivatives on the cpu queue: working copy and deep-zoom tiles."""
from workers.base import loupe_task


@loupe_task("cpu", time_limit=1800)
def asset_derivatives(asset_id: int) -> str:
    from webapp.assets.services import asset_build_derivatives

    return asset_build_derivatives(asset_id=asset_id)
