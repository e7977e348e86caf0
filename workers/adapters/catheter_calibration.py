"""A fine-tuned catheter candidate's balloon verdict: its parent's threshold, or one calibrated on the scope's
own corrected balloons.

The worker keeps the parent's (``CatheterAdapter.finetune``): on the operator simulation's shift, calibrating
on 10, 20 and 40 corrected balloons gave golden proposal agreements of 0.375, 0.017 and 0.065 against 0.158,
0.267 and 0.123 with the parent's threshold (champion 0.225; ``bench/catheter_shift_finetune.py``), all at
balloon recall 1.0: with a handful of defective balloons the threshold follows the weakest one. What follows
is the calibration that benchmark measures, kept for scopes with more corrections than that.

The shipped model's balloon threshold was calibrated on generated validation series of the conditions it
was trained for. A scope exists because its conditions differ (a new optical set-up, another line): there
the old threshold calls nearly every balloon defective, which is what the operators correct. A candidate
learned from those corrections is judged with a threshold calibrated on them — the scope's accepted
balloons in the run (its new corrections and the scope's real replay items) — at the stated operating point
(every defective balloon found), lowered by ``SAFETY`` so a defect a little fainter than the corrected ones
is still called. Without a defective corrected balloon it keeps its parent's calibration: there is nothing to
calibrate recall on. The gate then decides on the golden set whether the candidate is better.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from workers.adapters.catheter_golden import balloons

SAFETY = 0.8             # the threshold is this share of the weakest defective corrected balloon's score
MIN_BALLOONS = 5         # corrected balloons needed before calibrating at all
TARGET_RECALL = 1.0      # on the corrected balloons: a handful of them cannot support a lower target


def keep_parent_calibration(out_dir: Path, base_dir: Path) -> dict[str, Any] | None:
    """Copy the parent's balloon calibration into the candidate's config (fine-tuning writes a fresh one
    without it); None, and nothing written, when the parent has none."""
    from ml.common.checkpoint import CONFIG

    parent = json.loads((Path(base_dir) / CONFIG).read_text()).get("thresholds", {}).get("series")
    if parent is not None:
        _write(out_dir, parent)
    return parent


def keep_parent_thresholds(out_dir: Path, base_dir: Path) -> dict[str, Any]:
    """Copy every threshold of the parent (shot verdict, per type, pixel, the balloon calibration) and its flag
    into the candidate's config: a fine-tune on a few corrections recalibrates them on its replay shots (as
    few as the corrections), which moves the boxes the operator sees more than the new weights do. Returns
    the thresholds now in force."""
    from ml.common.checkpoint import CONFIG

    parent = json.loads((Path(base_dir) / CONFIG).read_text())
    config = json.loads((Path(out_dir) / CONFIG).read_text())
    config["thresholds"], config["flag"] = parent["thresholds"], parent["flag"]
    (Path(out_dir) / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True))
    return config["thresholds"]


def _write(out_dir: Path, calibration: dict[str, Any]) -> None:
    from ml.common.checkpoint import CONFIG

    config = json.loads((Path(out_dir) / CONFIG).read_text())
    config["thresholds"]["series"] = calibration
    (Path(out_dir) / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True))


def recalibrate_on_corrections(out_dir: Path, base_dir: Path, samples: list[Any],
                               log: Callable[[str], None] = print) -> dict[str, Any] | None:
    """Write the balloon calibration into the candidate's config (``out_dir``) from the corrected balloons
    among ``samples``, or the parent's (``base_dir``) where they cannot support one. Returns what was
    written (None when neither has one)."""
    from ml.catheter.predict import Predictor
    from ml.catheter.series import CALIBRATION_LENGTHS, balloon_score, operating_point, score_series
    from ml.common.device import pick_device

    by_item = balloons(samples)
    labels = np.array([int(any(s.defects for s in shots)) for shots in by_item.values()])
    if len(by_item) < MIN_BALLOONS or not labels.any():
        log(f"balloon threshold kept from the parent ({len(by_item)} corrected balloons, "
            f"{int(labels.sum())} defective: too few to calibrate on)")
        return keep_parent_calibration(out_dir, base_dir)
    predictor = Predictor.load(out_dir, device=str(pick_device(None)))
    scores = np.array([balloon_score(*score_series(predictor, [s.image for s in shots]))
                       for shots in by_item.values()])
    point = operating_point(scores, labels, TARGET_RECALL)
    point["threshold"] = round(point["threshold"] * SAFETY, 6)
    called = scores >= point["threshold"]
    point.update(precision=round(float(labels[called > 0].mean()), 4), flagged=int(called.sum()),
                 safety=SAFETY, source="corrected balloons of the scope")
    lengths = sorted({len(shots) for shots in by_item.values()} | set(CALIBRATION_LENGTHS))
    calibration = {"target_recall": TARGET_RECALL, "source": "corrections", "balloons": len(by_item),
                   "by_length": {str(n): dict(point) for n in lengths}}
    log(f"balloon threshold {point['threshold']:.4f} on {len(by_item)} corrected balloons "
        f"({int(labels.sum())} defective): precision there {point['precision']:.3f}")
    _write(out_dir, calibration)
    return calibration
