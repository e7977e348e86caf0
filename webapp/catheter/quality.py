"""Label quality for catheter answers: a control answer's score against the truth, and the champion's
confident contradiction of an accepted verdict.

Boxes are paired as the review diff pairs them (identical first, then by IoU >= ``diff.MATCH_IOU``): a truth
defect left unpaired was missed, an answer defect left unpaired is extra. Box F1 = 2·matched / (truth +
answer), 1 when neither has a defect. Accuracy is the mean of verdict agreement (0 or 1) and box F1.
"""
from __future__ import annotations

from typing import Any

from webapp.catheter import diff
from webapp.labeling.kinds import AssetDims, SuspectThreshold

# Per-class thresholds in the spirit of confident learning: the model's confidence in the class the
# answer did not give must reach the class's threshold. ``scores["defect"]`` is the series' highest
# per-shot defect probability, so the model's confidence in "ok" is 1 minus it. Below 0.5 the model would
# "contradict" an answer it agrees with more than not, hence the floor. A project sets its own; where it
# does not, each class's threshold is learned from its accepted answers (``self_confidence``): the shipped
# model's scores are not probabilities (its balloon threshold is 0.31; ok balloons score 0.28 to 0.72), so
# a fixed 0.9 for "ok" is never reached and one for "defect" catches under half of the defects.
SUSPECT_THRESHOLDS = (
    SuspectThreshold("defect", "Model says defect, answer ok: confidence at least", 0.9, 0.5, 1.0),
    SuspectThreshold("ok", "Model says ok, answer defect: confidence at least", 0.9, 0.5, 1.0),
)


def _defects(annotation: dict) -> int:
    return sum(len(shot.get("defects", [])) for shot in annotation.get("shots", []))


def control_score(truth: dict, answer: dict, dims: list[AssetDims]) -> dict[str, Any]:
    """Mean of verdict agreement (0 or 1) and defect box F1 against the truth."""
    out = diff.review_diff(truth, answer)
    n_truth, n_answer = _defects(truth), _defects(answer)
    matched = n_truth - len(out["removed"])
    box_f1 = 1.0 if n_truth + n_answer == 0 else 2 * matched / (n_truth + n_answer)
    verdict = float(truth.get("verdict") == answer.get("verdict"))
    return {"accuracy": round((verdict + box_f1) / 2, 4), "verdict_agrees": bool(verdict),
            "box_f1": round(box_f1, 4), "missed": len(out["removed"]), "extra": len(out["added"]),
            "truth_verdict": truth.get("verdict"), "answer_verdict": answer.get("verdict")}


def _confidences(scores: dict) -> dict[str, float] | None:
    defect = scores.get("defect")
    if isinstance(defect, bool) or not isinstance(defect, (int, float)):
        return None
    return {"defect": float(defect), "ok": 1.0 - float(defect)}


def self_confidence(answer: dict, scores: dict) -> dict[str, list[float]]:
    """The model's confidence in the verdict the answer gave, under that verdict's name."""
    confidence = _confidences(scores)
    given = answer.get("verdict")
    return {given: [confidence[given]]} if confidence is not None and given in confidence else {}


def suspect_check(answer: dict, proposal: dict, scores: dict, thresholds: dict) -> dict[str, Any] | None:
    confidence = _confidences(scores)
    if confidence is None:
        return None
    given = answer.get("verdict")
    other = "ok" if given == "defect" else "defect"
    if confidence[other] < thresholds[other]:
        return None
    return {"confidence": round(confidence[other], 4), "model_says": other, "answer_says": given,
            "threshold": thresholds[other]}
