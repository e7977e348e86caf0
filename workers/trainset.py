"""What a run trains on: the scope's new corrections since its last successful run, and the identity of
a training set. The reads live in ``webapp.labeling.selectors_loop`` and ``webapp.mlops.selectors``."""
from __future__ import annotations

import hashlib

from webapp.labeling.selectors_loop import Correction, correction_list_new
from webapp.mlops.selectors import training_run_watermark


def watermark(kind: str, scope_key: str) -> dict:
    """What the scope's last successful run took: its data cutoff time and the revisions it used."""
    return training_run_watermark(kind=kind, scope_key=scope_key)


def new_corrections(kind: str, scope_key: str, mark: dict | None = None) -> list[Correction]:
    """Accepted pool items accepted after the last run's cutoff whose revision that run did not use."""
    mark = watermark(kind, scope_key) if mark is None else mark
    return correction_list_new(kind=kind, scope_key=scope_key, cutoff=mark.get("cutoff"),
                               used_revisions=mark.get("used") or [])


def snapshot_id(pairs: list[tuple[int, int]], extra: str = "") -> str:
    """Identity of a training set: a hash of its sorted (item id, revision id) pairs (+ generated data)."""
    text = ";".join(f"{i}:{r}" for i, r in sorted(pairs)) + (f"|{extra}" if extra else "")
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
