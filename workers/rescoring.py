"""Re-scoring after an admin changes a version's operating threshold (``threshold_changed``, infer queue).

A prediction is one per (item, version), so the version's proposals on open items are replaced in place.
The adapter first tries the stored scores (``Adapter.rescore``: e.g. a catheter shot whose score now falls
below the threshold loses its defects, and every uncertainty moves with the threshold); what the scores do
not hold (the boxes of a shot that becomes defective, an articles page's cuts and polygons at a new tau)
is predicted again with the same model under the new threshold.
"""
from __future__ import annotations

import logging

from webapp.core import tasknames
from webapp.labeling.selectors_loop import prediction_open_list
from webapp.labeling.services import predictions_rescore
from webapp.mlops.selectors import threshold_current, version_get
from workers.adapters import get_adapter, has_adapter
from workers.base import loupe_task
from workers.inference import batch_size
from workers.itemdata import load_items
from workers.maps import rasters_store
from workers.models import predictor_for

log = logging.getLogger(__name__)


def _same(proposal, row: dict) -> bool:
    return (proposal.annotation == row["payload"] and proposal.scores == row["scores"]
            and abs(float(proposal.uncertainty) - float(row["uncertainty"])) < 1e-6)


def rescore_threshold(version_id: int, threshold_id: int | None = None) -> dict[str, int]:
    """Re-score the version's open predictions under the threshold in force. With ``threshold_id``, a
    change that a newer one superseded does nothing (the newer change's own task does the work)."""
    stats = {"unchanged": 0, "from_scores": 0, "repredicted": 0, "failed": 0, "superseded": 0}
    version = version_get(version_id=version_id)
    if version is None or not has_adapter(version.kind):
        return stats
    chosen = threshold_current(version_id=version_id)
    if threshold_id is not None and (chosen is None or chosen.pk != threshold_id):
        stats["superseded"] = 1
        return stats
    adapter = get_adapter(version.kind)
    predictor = predictor_for(version)
    adapter.apply_threshold(predictor, None if chosen is None else chosen.value)
    from_scores, network = [], []
    for row in prediction_open_list(version_id=version_id):
        proposal = adapter.rescore(predictor, row["payload"], row["scores"], row["uncertainty"])
        if proposal is None:
            network.append(row["item_id"])
        elif _same(proposal, row):
            stats["unchanged"] += 1
        else:
            from_scores.append({"item_id": row["item_id"], "payload": proposal.annotation, "scores": proposal.scores,
                                "uncertainty": proposal.uncertainty})
    outcome = predictions_rescore(model_version_id=version_id, rows=from_scores)
    stats["from_scores"], stats["failed"] = len(outcome["updated"]), len(outcome["failed"])
    bs = batch_size(version.kind)
    for start in range(0, len(network), bs):
        items = load_items(network[start:start + bs], mode=getattr(adapter, "image_mode", "RGB"))
        rows = []
        for item, proposal in zip(items, adapter.predict(predictor, items, bs)):
            if proposal.rasters:
                proposal.scores["maps"] = rasters_store(item_id=item.item_id, model_version_id=version_id,
                                                        rasters=proposal.rasters)
            rows.append({"item_id": item.item_id, "payload": proposal.annotation, "scores": proposal.scores,
                         "uncertainty": proposal.uncertainty})
        outcome = predictions_rescore(model_version_id=version_id, rows=rows)
        stats["repredicted"] += len(outcome["updated"])
        stats["failed"] += len(outcome["failed"])
    if stats["failed"]:
        log.error("re-scored output of version %s rejected by the schema (%s items)", version_id, stats["failed"])
    return stats


@loupe_task(tasknames.THRESHOLD_CHANGED, time_limit=1800)
def threshold_changed(version_id: int, threshold_id: int | None = None) -> dict[str, int]:
    """Sent on commit of an operating-threshold change (webapp.mlops.services.threshold_set)."""
    return rescore_threshold(version_id, threshold_id)
