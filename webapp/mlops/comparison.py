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

- With per-item records on both sides the interval is a *paired* bootstrap over the golden items
  (the same resampled items for both models), and the items where the two disagree are listed.
- Without them only aggregates exist; for a share (``0 ≤ x ≤ 1`` with a known ``n``) the interval is a
  parametric bootstrap: ``Binomial(n, x) / n`` drawn for each side independently — wider than the
  paired one, so it errs on the side of "not significant".
"""
from __future__ import annotations

from typing import Any

import numpy as np

BOOTSTRAP_DRAWS = 1000
CONFIDENCE = 0.95
SEED = 2018


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _interval(deltas: np.ndarray) -> list[float]:
    lo, hi = np.quantile(deltas, [(1 - CONFIDENCE) / 2, 1 - (1 - CONFIDENCE) / 2])
    return [round(float(lo), 4), round(float(hi), 4)]


def _items_by_slice(items: list[dict]) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {"overall": {}}
    for rec in items:
        value = _number(rec.get("value"))
        if value is None or rec.get("item") is None:
            continue
        out["overall"][rec["item"]] = value
        for name in rec.get("slices") or []:
            out.setdefault(name, {})[rec["item"]] = value
    return out


COUNTS = ("tp", "fp", "fn")


def _counts(items: list[dict]) -> dict[int, tuple[int, int, int]]:
    return {r["item"]: tuple(int(r[k]) for k in COUNTS) for r in items
            if r.get("item") is not None and all(isinstance(r.get(k), int) for k in COUNTS)}


def _micro_f1(counts: np.ndarray) -> np.ndarray:
    """F1 of summed (tp, fp, fn) along the last axis; 1 where there was nothing to find and nothing found."""
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 1.0)


def _paired_intervals(cand_items: list[dict], champ_items: list[dict], rng: np.random.Generator) -> dict[str, list]:
    """Per slice, the interval of the difference over the same resampled golden items: of the mean item
    value, or, where every item carries its counts (``tp``, ``fp``, ``fn``: an articles page's cuts), of the
    micro-averaged F1 the slice's figure is."""
    cand, champ = _items_by_slice(cand_items), _items_by_slice(champ_items)
    cand_counts, champ_counts = _counts(cand_items), _counts(champ_items)
    out = {}
    for name, values in cand.items():
        shared = sorted(set(values) & set(champ.get(name, {})))
        if len(shared) < 2:
            continue
        picks = rng.integers(0, len(shared), size=(BOOTSTRAP_DRAWS, len(shared)))
        if all(i in cand_counts and i in champ_counts for i in shared):
            a = np.array([cand_counts[i] for i in shared], dtype=float)
            b = np.array([champ_counts[i] for i in shared], dtype=float)
            out[name] = _interval(_micro_f1(a[picks].sum(axis=1)) - _micro_f1(b[picks].sum(axis=1)))
            continue
        diff = np.array([values[i] - champ[name][i] for i in shared])
        out[name] = _interval(diff[picks].mean(axis=1))
    return out


def _parametric_interval(c: float, b: float, n: int, rng: np.random.Generator) -> list[float] | None:
    if n < 1 or not (0 <= c <= 1 and 0 <= b <= 1):
        return None
    draws = (rng.binomial(n, c, BOOTSTRAP_DRAWS) - rng.binomial(n, b, BOOTSTRAP_DRAWS)) / n
    return _interval(draws)


def version_comparison(candidate: dict[str, Any], champion: dict[str, Any] | None, margin: float) -> dict[str, Any]:
    """Rows per slice (overall first): every metric of both sides with its difference, the primary
    metric's bootstrap interval, and whether the slice regresses beyond the gate's margin."""
    rng = np.random.default_rng(SEED)
    primary = candidate.get("primary") or (champion or {}).get("primary")
    cand_slices = {"overall": candidate.get("overall") or {}, **(candidate.get("slices") or {})}
    champ_slices = {} if champion is None else {"overall": champion.get("overall") or {},
                                                **(champion.get("slices") or {})}
    paired = {}
    has_items = bool(candidate.get("items")) and champion is not None and bool(champion.get("items"))
    if has_items:
        paired = _paired_intervals(candidate["items"], champion["items"], rng)
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
        c, b = _number(cand.get(primary)), _number(champ.get(primary))
        n = _number(cand.get("n")) or _number(cand.get("pages"))
        interval, method = paired.get(name), "paired bootstrap over golden items" if name in paired else None
        if interval is None and c is not None and b is not None and n:
            interval = _parametric_interval(c, b, int(n), rng)
            method = "parametric bootstrap from n and the share" if interval else None
        delta = None if c is None or b is None else round(c - b, 4)
        rows.append({
            "slice": name, "n": None if n is None else int(n), "candidate": c, "champion": b, "delta": delta,
            "interval": interval, "interval_method": method, "metrics": metrics,
            "regresses": delta is not None and delta < -margin,
            "significant": interval is not None and (interval[0] > 0 or interval[1] < 0),
        })
    return {"primary": primary, "margin": margin, "rows": rows, "per_item": has_items,
            "draws": BOOTSTRAP_DRAWS, "confidence": CONFIDENCE,
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
