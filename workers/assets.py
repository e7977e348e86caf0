"""Asset derivatives on the cpu queue: working copy and deep-zoom tiles, then prediction of the items
whose images are now all ready."""
from webapp.core import tasknames
from workers.base import loupe_task


@loupe_task(tasknames.ASSET_DERIVATIVES, time_limit=1800)
def asset_derivatives(asset_id: int) -> str:
    from webapp.assets.services import asset_build_derivatives
    from workers.inference import enqueue_ready_items

    state = asset_build_derivatives(asset_id=asset_id)
    enqueue_ready_items(asset_id)   # none are ready when this asset's derivatives failed
    return state
