"""A version's proposals for golden items, made to be compared on the admin's compare page (the golden
truth, the champion's and the candidate's proposals side by side); stored apart from the operators'
predictions (``webapp.mlops.services_golden``), so a candidate's output never reaches an operator.

Idempotent: items that already have the version's proposal are skipped; the store keeps one per
(version, item)."""
from __future__ import annotations

import logging

from webapp.core import tasknames
from webapp.labeling.selectors_loop import item_files_list
from webapp.mlops.selectors import version_get
from webapp.mlops.selectors_golden import golden_items_missing
from webapp.mlops.services_golden import golden_proposals_store
from workers.adapters import get_adapter, has_adapter
from workers.base import loupe_task
from workers.itemdata import decode_files
from workers.models import predictor_for

log = logging.getLogger(__name__)
CHUNK = 16


def golden_proposals_make(version_id: int, item_ids: list[int]) -> dict[str, list[int]]:
    version = version_get(version_id=version_id)
    if version is None or not has_adapter(version.kind):
        return {"stored": [], "failed": list(item_ids)}
    todo = golden_items_missing(version_ids=[version_id], item_ids=list(item_ids)).get(version_id, [])
    if not todo:
        return {"stored": [], "failed": []}
    adapter = get_adapter(version.kind)
    predictor = predictor_for(version)
    files = item_files_list(item_ids=todo)
    mode, min_side = getattr(adapter, "image_mode", "RGB"), adapter.input_side(predictor)
    outcome: dict[str, list[int]] = {"stored": [], "failed": []}
    for start in range(0, len(files), CHUNK):   # a bounded number of decoded images at a time
        items = decode_files(files[start:start + CHUNK], mode=mode, min_side=min_side).result()
        proposals = adapter.predict(predictor, items, len(items)) if items else []
        rows = [{"item_id": item.item_id, "payload": p.annotation, "scores": p.scores}
                for item, p in zip(items, proposals)]
        for key, ids in golden_proposals_store(version_id=version_id, rows=rows).items():
            outcome[key] += ids
    if outcome["failed"]:
        log.error("golden proposals of version %s refused for items %s", version_id, outcome["failed"])
    return outcome


@loupe_task(tasknames.GOLDEN_PROPOSALS, time_limit=900)
def golden_proposals(version_id: int, item_ids: list[int]) -> dict[str, int]:
    outcome = golden_proposals_make(version_id, item_ids)
    return {k: len(v) for k, v in outcome.items()}
