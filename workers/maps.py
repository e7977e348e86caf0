"""Writing a proposal's raster layers as small PNGs into the store, where the web process serves them from."""
from __future__ import annotations

import cv2
import numpy as np

from webapp.core.filestore import save_bytes
from webapp.labeling.maps import prediction_map_relpath


def _write_png(relative: str, rgba: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA), [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise OSError(f"cannot encode {relative}")
    save_bytes(relative, data.tobytes())   # a reader never sees half a file


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
