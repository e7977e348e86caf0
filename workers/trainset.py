"""What a run trains on: the scope's new corrections since its last successful run, and the identity of
a training set. The reads live in ``webapp.labeling.selectors_loop`` and ``webapp.mlops.selectors``."""
from __future__ import annotations

import hashlib

from webapp.labeling.selectors_loop import Correction, correction_list_new, golden_slice_counts, item_slices
from webapp.labeling.services import item_hold_out
from webapp.mlops.gate import MIN_ITEMS
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


def holdout_selects(item_id: int, every: int) -> bool:
    """Whether the item is among the one in ``every`` held out (a hash of its id: stable across runs)."""
    if every <= 0:
        return False
    digest = hashlib.sha256(f"holdout:{item_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % every == 0


def hold_out(kind: str, scope_key: str, corrections: list[Correction], every: int) -> set[int]:
    """Move into the golden set the corrections chosen by ``holdout_selects`` whose item shows a slice the
    golden set has fewer than the gate's ``MIN_ITEMS`` of (counting those moved here), so that a slice new
    to the scope becomes one the gate can judge. Returns the item ids moved: they are not trained on."""
    if every <= 0 or not corrections:
        return set()
    counts = golden_slice_counts(kind=kind, scope_key=scope_key)
    slices = item_slices(kind=kind, item_ids=[c.item_id for c in corrections])
    chosen = []
    for c in corrections:
        lacking = [name for name in slices.get(c.item_id, []) if counts.get(name, 0) < MIN_ITEMS]
        if lacking and holdout_selects(c.item_id, every):
            chosen.append(c.item_id)
            for name in slices[c.item_id]:
                counts[name] = counts.get(name, 0) + 1
    return set(item_hold_out(item_ids=chosen)) if chosen else set()
