"""The golden-set gate: one rule, used by the training worker (the verdict stored on a version, whether it
is promoted automatically) and by the compare page (the verdict shown per slice). Pure computation on the
evaluation JSON the worker stores (``webapp/mlops/comparison.py`` describes it).

For every row (``overall`` and each slice) the gate measures the candidate − champion difference of the
primary figure and a 95 % interval of it:

- a *paired* bootstrap over the golden items where both evaluations carry per-item records (the same
  resampled items for both models): of the mean item value, or, where every item carries its cut counts
  (``tp``, ``fp``, ``fn``: articles), of the micro-averaged F1 the slice figure is;
- else a parametric bootstrap from the slice size and the two shares (``Binomial(n, x) / n`` per side,
  drawn independently: wider than the paired one).

The paired interval is of the per-item statistic the evaluation stores (catheter: the share of an item's
shots judged right), so it can sit beside, not around, an aggregate difference such as the overall recall.

A row's verdict:

- ``not_enough_evidence`` when the row has fewer than ``MIN_ITEMS`` golden items, or, where its items carry
  labels and some are positive, fewer than ``MIN_POSITIVES`` positives (a recall on seven defective shots
  cannot be judged), or no interval;
- ``better`` when the interval lies entirely above 0;
- ``worse`` when it lies entirely below −margin;
- ``not_enough_evidence`` otherwise (the interval straddles 0 or −margin).

The version's verdict:

- ``worse`` when any row is worse;
- ``better`` when the overall row is better — or some slice is better while the overall interval lies
  above −margin (the candidate gains where it learned and is shown not to lose beyond the margin
  overall) — and no row's difference falls below −margin (a slice too small to convict still keeps a
  visible regression out);
- ``not_enough_evidence`` otherwise, and always without a golden set or a champion to compare with.

Only ``better`` is promoted automatically; a manual promotion of anything else needs an override with
its own reason (``services.champion_promote``).
"""
from __future__ import annotations

import zlib
from typing import Any

import numpy as np

BETTER, WORSE, NOT_ENOUGH_EVIDENCE = "better", "worse", "not_enough_evidence"
VERDICTS = (BETTER, WORSE, NOT_ENOUGH_EVIDENCE)
MIN_ITEMS = 15       # golden items a row needs before its interval may decide
MIN_POSITIVES = 10   # positives (defective items, pages with cuts) a row with positives needs
BOOTSTRAP_DRAWS = 1000
CONFIDENCE = 0.95
SEED = 2018
COUNTS = ("tp", "fp", "fn")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _rng(name: str) -> np.random.Generator:
    # One stream per row, fixed by its name: the worker and the page draw the same resamples, whatever
    # other rows there are.
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


def _interval(deltas: np.ndarray) -> list[float]:
    lo, hi = np.quantile(deltas, [(1 - CONFIDENCE) / 2, 1 - (1 - CONFIDENCE) / 2])
    return [round(float(lo), 4), round(float(hi), 4)]


def micro_f1(counts: np.ndarray) -> np.ndarray:
    """F1 of summed (tp, fp, fn) along the last axis; 1 where there was nothing to find and nothing found."""
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 1.0)


def _records_by_row(items: list[dict]) -> dict[str, dict[int, dict]]:
    out: dict[str, dict[int, dict]] = {"overall": {}}
    for rec in items or []:
        if rec.get("item") is None or _number(rec.get("value")) is None:
            continue
        out["overall"][rec["item"]] = rec
        for name in rec.get("slices") or []:
            out.setdefault(name, {})[rec["item"]] = rec
    return out


def _positive(rec: dict) -> bool | None:
    """Whether a golden item holds something to find (a defect, a cut); None when the record cannot say."""
    if rec.get("label") in (0, 1):
        return bool(rec["label"])
    if all(isinstance(rec.get(k), int) for k in COUNTS):
        return rec["tp"] + rec["fn"] > 0
    return None


def _paired(name: str, cand: dict[int, dict], champ: dict[int, dict]) -> list[float] | None:
    shared = sorted(set(cand) & set(champ))
    if len(shared) < 2:
        return None
    picks = _rng(name).integers(0, len(shared), size=(BOOTSTRAP_DRAWS, len(shared)))
    if all(all(isinstance(side[i].get(k), int) for k in COUNTS) for i in shared for side in (cand, champ)):
        a = np.array([[cand[i][k] for k in COUNTS] for i in shared], dtype=float)
        b = np.array([[champ[i][k] for k in COUNTS] for i in shared], dtype=float)
        return _interval(micro_f1(a[picks].sum(axis=1)) - micro_f1(b[picks].sum(axis=1)))
    diff = np.array([float(cand[i]["value"]) - float(champ[i]["value"]) for i in shared])
    return _interval(diff[picks].mean(axis=1))


def _parametric(name: str, c: float, b: float, n: int) -> list[float] | None:
    if n < 1 or not (0 <= c <= 1 and 0 <= b <= 1):
        return None
    rng = _rng(name)
    return _interval((rng.binomial(n, c, BOOTSTRAP_DRAWS) - rng.binomial(n, b, BOOTSTRAP_DRAWS)) / n)


def _too_little(n: int | None, positives: int | None, interval: list[float] | None) -> str | None:
    """Why a row cannot decide whatever its interval says; None when it can."""
    if n is None or n < MIN_ITEMS:
        return f"{n or 0} golden items, {MIN_ITEMS} needed to decide"
    if positives is not None and 0 < positives < MIN_POSITIVES:
        return f"{positives} positives, {MIN_POSITIVES} needed to decide"
    if interval is None:
        return "no interval: figures missing on one side"
    return None


def _row_verdict(n: int | None, positives: int | None, interval: list[float] | None,
                 margin: float) -> tuple[str, str]:
    too_little = _too_little(n, positives, interval)
    if too_little:
        return NOT_ENOUGH_EVIDENCE, too_little
    lo, hi = interval
    if lo > 0:
        return BETTER, f"interval [{lo:.3f}, {hi:.3f}] lies above 0"
    if hi < -margin:
        return WORSE, f"interval [{lo:.3f}, {hi:.3f}] lies below -margin {margin:g}"
    return NOT_ENOUGH_EVIDENCE, f"interval [{lo:.3f}, {hi:.3f}] straddles {'0' if lo > -margin else f'-{margin:g}'}"


def judge_rows(candidate: dict[str, Any], champion: dict[str, Any], margin: float) -> list[dict[str, Any]]:
    """One row per slice (``overall`` first) present on either side: the primary figure of both, the
    difference, its interval and how it was drawn, the items and positives behind it, the verdict and why."""
    primary = candidate.get("primary") or champion.get("primary")
    cand_slices = {"overall": candidate.get("overall") or {}, **(candidate.get("slices") or {})}
    champ_slices = {"overall": champion.get("overall") or {}, **(champion.get("slices") or {})}
    cand_items, champ_items = _records_by_row(candidate.get("items")), _records_by_row(champion.get("items"))
    per_item = bool(candidate.get("items")) and bool(champion.get("items"))
    rows = []
    for name in list(cand_slices) + [n for n in champ_slices if n not in cand_slices]:
        cand, champ = cand_slices.get(name) or {}, champ_slices.get(name) or {}
        c, b = _number(cand.get(primary)), _number(champ.get(primary))
        delta = None if c is None or b is None else round(c - b, 4)
        interval, method, positives = None, None, None
        n = _number(cand.get("n")) or _number(cand.get("pages"))
        if per_item and name in cand_items and name in champ_items:
            records = cand_items[name]
            interval = _paired(name, records, champ_items[name])
            if interval is not None:
                method = "paired bootstrap over golden items"
                n = len(set(records) & set(champ_items[name]))
                flags = [_positive(r) for r in records.values()]
                positives = None if None in flags else sum(flags)
        if interval is None and c is not None and b is not None and n:
            interval = _parametric(name, c, b, int(n))
            method = "parametric bootstrap from n and the share" if interval else None
        n = None if n is None else int(n)
        verdict, why = _row_verdict(n, positives, interval, margin)
        rows.append({"slice": name, "n": n, "positives": positives, "candidate": c, "champion": b, "delta": delta,
                     "interval": interval, "interval_method": method, "verdict": verdict, "why": why,
                     "decidable": _too_little(n, positives, interval) is None,
                     "too_few": _too_little(n, positives, [0.0, 0.0]) is not None})
    return rows


def judge(candidate: dict[str, Any] | None, champion: dict[str, Any] | None, margin: float) -> dict[str, Any]:
    """The gate's decision on two evaluations of the same golden set: ``{"verdict", "reasons", "rows",
    "metric", "margin", "compared", "warnings"}``; the rule is in the module's docstring."""
    base = {"margin": margin, "draws": BOOTSTRAP_DRAWS, "confidence": CONFIDENCE,
            "min_items": MIN_ITEMS, "min_positives": MIN_POSITIVES}
    if candidate is None:
        why = "no accepted golden items: the candidate was not compared"
        return {**base, "verdict": NOT_ENOUGH_EVIDENCE, "reasons": [why], "rows": [], "compared": False,
                "metric": None, "warnings": [why]}
    if champion is None:
        why = "no champion to compare with"
        return {**base, "verdict": NOT_ENOUGH_EVIDENCE, "reasons": [why], "rows": [], "compared": False,
                "metric": candidate.get("primary"), "warnings": [why]}
    metric = candidate.get("primary") or champion.get("primary")
    rows = judge_rows(candidate, champion, margin)
    overall = rows[0]
    worse = [r for r in rows if r["verdict"] == WORSE]
    visible_losses = [r for r in rows if r["delta"] is not None and r["delta"] < -margin]
    gains = [r for r in rows if r["verdict"] == BETTER]
    overall_safe = overall["decidable"] and overall["interval"][0] > -margin
    if worse:
        verdict = WORSE
        reasons = [f"{r['slice']}: {metric} worse, {r['why']}" for r in worse]
    elif gains and overall_safe and not visible_losses:
        verdict = BETTER
        reasons = [f"{r['slice']}: {metric} better, {r['why']}" for r in gains]
    else:
        verdict = NOT_ENOUGH_EVIDENCE
        reasons = [f"{r['slice']}: {metric} {r['candidate']:.3f} < champion {r['champion']:.3f} - margin {margin:g}"
                   for r in visible_losses]
        if not gains:
            reasons.append(f"no slice shows the candidate better (overall: {overall['why']})")
        elif not overall_safe:
            reasons.append(f"overall: not shown to stay within the margin, {overall['why']}")
    return {**base, "verdict": verdict, "reasons": reasons, "rows": rows, "compared": True, "metric": metric,
            "warnings": []}
