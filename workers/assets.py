"""Asset derivatives on the cpu queue: working copy and deep-zoom tiles, then prediction of the items
whose images are now all ready."""
from workers.base import loupe_task


@loupe_task("cpu", time_limit=1800)
def asset_derivatives(asset_id: int) -> str:
    from webapp.assets.models import Asset
    from webapp.assets.services import asset_build_derivatives
    from workers.inference import enqueue_ready_items

    state = asset_build_derivatives(asset_id=asset_id)
    if state == Asset.Derivatives.READY:
        enqueue_ready_items(asset_id)
    return state
