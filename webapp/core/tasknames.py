"""The name of every Celery task, in one registry that the web app and the workers both import.

The web process enqueues by these names (it never imports the task modules, which pull in torch); the
workers register their tasks under them (``workers.base.loupe_task`` refuses a name that is not here).
A name carries its queue: ``loupe.<queue>.<task>``.
"""
from __future__ import annotations

ASSET_DERIVATIVES = "loupe.cpu.asset_derivatives"
ZIP_IMPORT = "loupe.cpu.zip_import"
TRAINING_TRIGGER_CHECK = "loupe.cpu.training_trigger_check"
LOOP_SWEEP = "loupe.cpu.loop_sweep"
LEASE_EXPIRE_STALE = "loupe.cpu.lease_expire_stale"
PREDICT_ITEMS = "loupe.infer.predict_items"
REPREDICT_ITEM = "loupe.infer.repredict_item"
CHAMPION_CHANGED = "loupe.infer.champion_changed"
THRESHOLD_CHANGED = "loupe.infer.threshold_changed"
OMR_RECOMPUTE = "loupe.infer.omr_recompute"
GOLDEN_PROPOSALS = "loupe.infer.golden_proposals"
RUN_TRAINING = "loupe.train.run_training"

ALL = (ASSET_DERIVATIVES, ZIP_IMPORT, TRAINING_TRIGGER_CHECK, LOOP_SWEEP, LEASE_EXPIRE_STALE, PREDICT_ITEMS,
       REPREDICT_ITEM, CHAMPION_CHANGED, THRESHOLD_CHANGED, OMR_RECOMPUTE, GOLDEN_PROPOSALS,
       RUN_TRAINING)


def queue_of(name: str) -> str:
    """The queue a task name routes to (its middle part)."""
    prefix, queue, task = (name.split(".") + ["", ""])[:3]
    if prefix != "loupe" or not queue or not task:
        raise ValueError(f"task name {name!r} is not of the form loupe.<queue>.<task>")
    return queue
