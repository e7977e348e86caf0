"""The golden-set gate: a candidate that regresses any slice by more than a margin is not promotable."""
from __future__ import annotations

from typing import Any


def _value(figures: dict[str, Any] | None, metric: str) -> float | None:
    value = (figures or {}).get(metric)
    return float(value) if isinstance(value, (int, float)) else None


def compare(candidate: dict[str, Any] | None, champion: dict[str, Any] | None, margin: float
            ) -> tuple[bool, list[str], dict[str, Any]]:
    """(promotable, reasons, per-slice comparison) of two evaluations on the same golden set."""
    if candidate is None:
        return True, [], {"compared": False, "warnings": ["no accepted golden items: the candidate was not compared"]}
    if champion is None:
        return True, [], {"compared": False, "warnings": ["no champion to compare with"]}
    metric = candidate["primary"]
    reasons: list[str] = []
    rows: dict[str, Any] = {}
    pairs = [("overall", candidate["overall"], champion["overall"])]
    pairs += [(f"slice {name}", figures, champion["slices"].get(name)) for name, figures in candidate["slices"].items()]
    for label, cand, champ in pairs:
        c, b = _value(cand, metric), _value(champ, metric)
        if c is None or b is None:
            continue
        rows[label] = {"candidate": round(c, 4), "champion": round(b, 4), "delta": round(c - b, 4)}
        if c < b - margin:
            reasons.append(f"{label}: {metric} {c:.3f} < champion {b:.3f} - margin {margin:g}")
    return not reasons, reasons, {"compared": True, "metric": metric, "margin": margin, "rows": rows}
