"""Label quality for article pages: a control answer's cut F1 against the truth, and the champion's
confident contradiction of an accepted page's cuts.

Cuts are paired by ``formats.articles.match_cuts`` (the cut metric's tolerance, 1 % of the page's
extent): a pair within it is a hit, a moved one counts as a miss and an extra. Cut F1 = 2·hits / (truth +
answer), 1 when neither has a cut. Accuracy is the cut F1 when the page types agree, else 0.

Suspect: the model's cut candidates (``prediction.scores["candidates"]``, each with the highest threshold
that keeps it) at or above ``confident_cut`` that the answer lacks, plus answer cuts no candidate at all
supports; at least ``min_disagreements`` of them make the page suspect (both project settings, see
``SUSPECT_THRESHOLDS`` for their defaults and ranges).
"""
from __future__ import annotations

from typing import Any

from formats.articles import match_cuts
from webapp.labeling.kinds import AssetDims, SuspectThreshold

SUSPECT_THRESHOLDS = (
    SuspectThreshold("confident_cut", "A model cut counts as confident from", 0.7, 0.5, 1.0),
    SuspectThreshold("min_disagreements", "Disagreeing cuts that make a page suspect", 2, 1, 50, integer=True),
)
_XY = ("x0", "y0", "x1", "y1")


def control_score(truth: dict, answer: dict, dims: list[AssetDims]) -> dict[str, Any]:
    """Cut F1 against the truth (0 when the page types differ)."""
    cuts_truth, cuts_answer = truth.get("cuts", []), answer.get("cuts", [])
    m = match_cuts(cuts_truth, cuts_answer)
    hits = len(m["same"])
    total = len(cuts_truth) + len(cuts_answer)
    cut_f1 = 1.0 if total == 0 else 2 * hits / total
    page_type = truth.get("page_type") == answer.get("page_type")
    return {"accuracy": round(cut_f1 if page_type else 0.0, 4), "cut_f1": round(cut_f1, 4),
            "page_type_agrees": page_type, "missed": len(m["removed"]) + len(m["moved"]),
            "extra": len(m["added"]) + len(m["moved"])}


def self_confidence(answer: dict, scores: dict) -> dict[str, list[float]]:
    """The confidence of the model's cut candidates that the answer's cuts agree with, under
    ``confident_cut`` (a learned ``confident_cut`` is the model's mean confidence in the cuts answers keep)."""
    candidates = [c for c in scores.get("candidates") or [] if isinstance(c, dict) and all(k in c for k in _XY)]
    if not candidates or answer.get("page_type", "article") != "article":
        return {}
    by_line = {tuple(c[k] for k in _XY): float(c.get("confidence", 0.0)) for c in candidates}
    kept = match_cuts([{k: c[k] for k in _XY} for c in candidates],
                      [{k: c[k] for k in _XY} for c in answer.get("cuts", [])])["same"]
    return {"confident_cut": [by_line[tuple(model[k] for k in _XY)] for model, _ in kept]} if kept else {}


def suspect_check(answer: dict, proposal: dict, scores: dict, thresholds: dict) -> dict[str, Any] | None:
    candidates = [c for c in scores.get("candidates") or [] if isinstance(c, dict) and all(k in c for k in _XY)]
    if not candidates or answer.get("page_type", "article") != "article":
        return None
    confident_cut, min_disagreements = float(thresholds["confident_cut"]), int(thresholds["min_disagreements"])
    confident = [c for c in candidates if float(c.get("confidence", 0.0)) >= confident_cut]
    cuts = [{k: c[k] for k in _XY} for c in answer.get("cuts", [])]
    missing = match_cuts([{k: c[k] for k in _XY} for c in confident], cuts)["removed"]
    unsupported = match_cuts([{k: c[k] for k in _XY} for c in candidates], cuts)["added"]
    if len(missing) + len(unsupported) < min_disagreements:
        return None
    by_line = {tuple(c[k] for k in _XY): float(c.get("confidence", 0.0)) for c in confident}
    confidence = max([by_line.get(tuple(c[k] for k in _XY), confident_cut) for c in missing] or [confident_cut])
    return {"confidence": round(confidence, 4), "missing_cuts": missing, "unsupported_cuts": unsupported,
            "threshold": confident_cut, "min_disagreements": min_disagreements}
