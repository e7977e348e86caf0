"""Proposals that need no trained model, from a scope's first item.

A kind whose proposal is made by an algorithm (OMR: the alignment of a photo with its original; the symbol
detector only adds its boxes) proposes before its scope has a champion. Those predictions are recorded
against the scope's model-free version, registered once per scope (``config["mode"] == "model-free"``, never
promotable, never made champion by the loop), so every prediction still names the version that made it. The
first champion (shipped or bootstrapped) is promoted like any other, and its promotion re-scores these items.
"""
from __future__ import annotations

import json
from typing import Any


from webapp.mlops.selectors import version_of_mode
from webapp.mlops.services import model_version_register
from workers.adapters import get_adapter
from workers.locks import client, key
from workers.models import artifact_publish, device, model_size, predictor_for, scope_dir

MODE = "model-free"
REASON = "the kind's algorithm alone, no trained model: the scope's proposals until its first champion"


def proposes_without_model(kind: str) -> bool:
    return bool(getattr(get_adapter(kind), "proposes_without_model", False))


def version(kind: str, scope_key: str) -> Any:
    """The scope's model-free version, registered on first use (one per scope, also with several workers)."""
    found = version_of_mode(kind=kind, scope_key=scope_key, mode=MODE)
    if found is not None:
        return found
    with client().lock(key("model-free", kind, scope_key or "_global"), timeout=30, blocking_timeout=30):
        found = version_of_mode(kind=kind, scope_key=scope_key, mode=MODE)
        if found is not None:
            return found
        folder = scope_dir(kind, scope_key) / MODE
        folder.mkdir(parents=True, exist_ok=True)
        # no weights: the adapter's loader builds the predictor without a model from this folder
        (folder / "config.json").write_text(json.dumps({"kind": kind, "mode": MODE}))
        return model_version_register(
            kind=kind, scope_key=scope_key, artifact_uri=artifact_publish(folder),
            config={"mode": MODE, "size": model_size(), "device": device()}, data_snapshot_id="none",
            promotable=False, blocked_reasons=[REASON])


def predictor(kind: str, scope_key: str) -> tuple[Any, Any]:
    """(the scope's model-free version, its predictor); (None, None) for a kind that needs a trained model."""
    if not proposes_without_model(kind):
        return None, None
    found = version(kind, scope_key)
    return found, predictor_for(found)
