"""pycocotools, the field's own COCO tool, as a user of it would run it: load the export, evaluate it
against itself, read AP (IoU .50:.95, all areas)."""
from __future__ import annotations

import contextlib
import io
import json
import tempfile

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def self_ap(document: dict, iou_type: str) -> float:
    """AP of the document's annotations, scored 1.0, against the document itself as ground truth."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(document, f)
        f.flush()
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO(f.name)
            detections = [{**a, "score": 1.0} for a in document["annotations"]]
            dt = gt.loadRes(detections)
            ev = COCOeval(gt, dt, iou_type)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
    return float(ev.stats[0])
