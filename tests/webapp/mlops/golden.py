"""Golden-set figures as the training worker stores them (``metrics``), with per-item records, built from
chosen per-item outcomes so that every figure on the compare page can be checked by hand."""
from __future__ import annotations

import random


def evaluation(outcomes: dict[int, tuple[str, int, float]], primary: str = "recall") -> dict:
    """``outcomes``: item id -> (slice, label, score). An item counts right when (score >= 0.5) == label."""
    items, slices = [], {}
    for item, (name, label, score) in sorted(outcomes.items()):
        value = float((score >= 0.5) == bool(label))
        items.append({"item": item, "slices": [name], "value": value, "label": label, "score": score})
        slices.setdefault(name, []).append(value)
    overall = [r["value"] for r in items]
    return {"primary": primary, "overall": {"n": len(overall), primary: sum(overall) / len(overall)},
            "slices": {k: {"n": len(v), primary: sum(v) / len(v)} for k, v in slices.items()}, "items": items}


def pair(n_items: int, seed: int = 7, worse_slice: str | None = "defect:bubble", first_item: int = 1):
    """(candidate, champion) evaluations on the same ``n_items`` golden items over three slices: the
    candidate is better everywhere except ``worse_slice``, where it misses most defects."""
    rng = random.Random(seed)
    names = ["defect:scratch", "defect:bubble", "verdict:ok"]
    champ, cand = {}, {}
    for i in range(first_item, first_item + n_items):
        name = names[i % 3]
        label = 0 if name == "verdict:ok" else 1
        base = rng.random()
        champ[i] = (name, label, base if label else 1 - base)            # right about half the time
        better = min(1.0, base + 0.3)
        cand[i] = (name, label, (0.1 if name == worse_slice else better) if label else 1 - better)
    return evaluation(cand), evaluation(champ)
