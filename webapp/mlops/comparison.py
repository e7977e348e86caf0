"""A candidate against the champion on the same golden set: per-slice figures, their differences, and
bootstrap confidence intervals of the differences. Pure computation on the stored ``metrics`` JSON.

What a version stores (``workers/training.py``): ``metrics = {overall, slices, primary, golden, gate,
champion: {version, overall, slices, primary}, training}``: aggregates per slice, evaluated on the
golden set at training time. Optionally ``metrics["items"]``: one record per golden item,
``{"item": id, "slices": [names], "value": float, "label": 0|1, "score": float}``, where a slice's
primary figure is the mean ``value`` of its items (a share judged right); or, with the counts
``tp``, ``fp``, ``fn`` (an articles page's cuts), the micro-averaged F1 of its items' summed counts.
Optionally ``metrics["threshold_curve"]``: precision and recall over the kind's operating threshold
where it is not a per-item score (articles: the cut threshold tau).

The intervals and verdicts are the gate's (``webapp.mlops.gate``, one rule for the worker and this page):
paired over golden items where both sides store per-item records (and then the items where the two
disagree are listed), else parametric from the slice size.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from webapp.mlops import gate

BOOTSTRAP_DRAWS = gate.BOOTSTRAP_DRAWS
CONFIDENCE = gate.CONFIDENCE


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def version_comparison(candidate: dict[str, Any], champion: dict[str, Any] | None, margin: float) -> dict[str, Any]:
    """Rows per slice (overall first): every metric of both sides with its difference, and the gate's
    judgement of the primary metric (``webapp.mlops.gate``: interval, verdict and why), with the gate's
    verdict on the whole version against ``champion``."""
    primary = candidate.get("primary") or (champion or {}).get("primary")
    cand_slices = {"overall": candidate.get("overall") or {}, **(candidate.get("slices") or {})}
    champ_slices = {} if champion is None else {"overall": champion.get("overall") or {},
                                                **(champion.get("slices") or {})}
    has_items = bool(candidate.get("items")) and champion is not None and bool(champion.get("items"))
    decision = gate.judge(candidate, champion, margin)
    judged = {r["slice"]: r for r in (decision["rows"] or gate.judge_rows(candidate, {}, margin))}
    rows = []
    for name in list(cand_slices) + [n for n in champ_slices if n not in cand_slices]:
        cand, champ = cand_slices.get(name) or {}, champ_slices.get(name) or {}
        metrics = []
        for metric in sorted(set(cand) | set(champ), key=lambda m: (m != primary, m != "n", m)):
            c, b = _number(cand.get(metric)), _number(champ.get(metric))
            if c is None and b is None:
                continue
            delta = None if c is None or b is None else round(c - b, 4)
            metrics.append({"name": metric, "candidate": c, "champion": b, "delta": delta,
                            "primary": metric == primary})
        row = judged[name]
        interval, delta = row["interval"], row["delta"]
        rows.append({
            **row, "metrics": metrics,
            "regresses": delta is not None and delta < -margin,
            "significant": interval is not None and (interval[0] > 0 or interval[1] < 0),
        })
    return {"primary": primary, "margin": margin, "rows": rows, "per_item": has_items,
            "draws": BOOTSTRAP_DRAWS, "confidence": CONFIDENCE,
            "verdict": decision["verdict"], "reasons": decision["reasons"],
            "min_items": gate.MIN_ITEMS, "min_positives": gate.MIN_POSITIVES,
            "disagreements": item_disagreements(candidate, champion) if has_items else []}


def item_disagreements(candidate: dict[str, Any], champion: dict[str, Any] | None, limit: int = 200) -> list[dict]:
    """Golden items where the two models' per-item results differ, largest difference first."""
    if champion is None:
        return []
    theirs = {r["item"]: r for r in champion.get("items") or [] if r.get("item") is not None}
    out = []
    for rec in candidate.get("items") or []:
        other = theirs.get(rec.get("item"))
        c, b = _number(rec.get("value")), _number((other or {}).get("value"))
        if other is None or c is None or b is None or abs(c - b) < 1e-9:
            continue
        out.append({"item": rec["item"], "slices": rec.get("slices") or [], "candidate": c, "champion": b,
                    "delta": round(c - b, 4)})
    out.sort(key=lambda r: (abs(r["delta"]) * -1, r["item"]))
    return out[:limit]


def pr_curve(items: list[dict]) -> tuple[list[float], list[float], list[float]] | None:
    """(precision, recall, thresholds) from per-item ``label`` and ``score``; None without them."""
    pairs = [(float(r["score"]), int(r["label"])) for r in items or []
             if _number(r.get("score")) is not None and r.get("label") in (0, 1)]
    positives = sum(label for _, label in pairs)
    if not pairs or positives == 0:
        return None
    pairs.sort(key=lambda p: -p[0])
    scores = np.array([p[0] for p in pairs])
    labels = np.array([p[1] for p in pairs])
    tp = np.cumsum(labels)
    fp = np.cumsum(1 - labels)
    precision = tp / (tp + fp)
    recall = tp / positives
    return precision.tolist(), recall.tolist(), scores.tolist()


def threshold_curve(figures: dict[str, Any] | None) -> tuple[list[float], list[float], list[float]] | None:
    """(precision, recall, thresholds) to choose the operating threshold on: the stored curve over the
    kind's threshold (``threshold_curve``, e.g. articles' cut tau), else the per-item score curve."""
    stored = (figures or {}).get("threshold_curve") or {}
    keys = ("precision", "recall", "thresholds")
    if all(isinstance(stored.get(k), list) for k in keys) and stored["thresholds"]:
        if len({len(stored[k]) for k in keys}) == 1:
            return [float(x) for x in stored["precision"]], [float(x) for x in stored["recall"]], \
                [float(x) for x in stored["thresholds"]]
    return pr_curve((figures or {}).get("items"))


def operating_points(figures: dict[str, Any] | None) -> list[dict] | None:
    """Every point an admin can pick on the version's curve, highest threshold first: the threshold, the
    precision and recall there, and the share of the golden items flagged (score at or above it). The share
    is known from per-item scores only: a stored curve over another threshold (articles' tau) gives None."""
    curve = threshold_curve(figures)
    if curve is None:
        return None
    precision, recall, thresholds = curve
    stored = (figures or {}).get("threshold_curve") or {}
    per_item = not (isinstance(stored.get("thresholds"), list) and stored["thresholds"])
    points: dict[float, dict] = {}
    for i, (t, p, r) in enumerate(zip(thresholds, precision, recall)):
        # tied scores: the last of them counts every item at that threshold
        points[t] = {"threshold": round(t, 5), "precision": round(p, 4), "recall": round(r, 4),
                     "flagged": round((i + 1) / len(thresholds), 4) if per_item else None}
    return [points[t] for t in sorted(points, reverse=True)]


def confusion(items: list[dict], threshold: float = 0.5) -> list[list[int]] | None:
    """[[tn, fp], [fn, tp]] at ``threshold`` from per-item ``label`` and ``score``."""
    pairs = [(float(r["score"]), int(r["label"])) for r in items or []
             if _number(r.get("score")) is not None and r.get("label") in (0, 1)]
    if not pairs:
        return None
    m = [[0, 0], [0, 0]]
    for score, label in pairs:
        m[label][int(score >= threshold)] += 1
    return m
