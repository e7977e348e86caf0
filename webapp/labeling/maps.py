"""Where a prediction's raster layers (defect map, saliency, ...) live under MEDIA_ROOT.

A prediction is unique per (item, model version), so its files are named by those two ids and the shot:
the worker writes them before the prediction row exists, and a redelivered batch rewrites the same files.
"""
from __future__ import annotations

import re

LAYER = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def prediction_map_relpath(*, item_id: int, model_version_id: int, shot: int, layer: str) -> str:
    if not LAYER.match(layer):
        raise ValueError(f"bad layer name {layer!r}")
    return f"predictions/{int(item_id)}/v{int(model_version_id)}/shot{int(shot)}_{layer}.png"
