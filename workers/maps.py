"""Writing a proposal's raster layers as small PNGs next to the media, where the web process serves them."""
from __future__ import annotations

import os
import uuid

import cv2
import numpy as np

from webapp.assets.storage import media_path
from webapp.labeling.maps import prediction_map_relpath


def _write_png(relative: str, rgba: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA), [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise OSError(f"cannot encode {relative}")
    path = media_path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_bytes(data.tobytes())
    os.replace(tmp, path)   # a reader never sees half a file


def rasters_store(*, item_id: int, model_version_id: int, rasters: list[dict[str, np.ndarray]]) -> list[dict]:
    """Write each image's layers; returns, per image, {"shot": i, <layer>: True for each layer written}."""
    index = []
    for shot, layers in enumerate(rasters):
        entry: dict = {"shot": shot}
        for name, rgba in layers.items():
            _write_png(prediction_map_relpath(item_id=item_id, model_version_id=model_version_id, shot=shot,
                                              layer=name), rgba)
            entry[name] = True
        index.append(entry)
    return index
