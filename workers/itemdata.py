"""Items as the models see them: working copies decoded in parallel, annotations of accepted revisions.

Workers read working copies (long side ~1600 px), never the originals: decoding a 600 dpi page costs
far more than the model's time on a GPU. Threads decode in parallel (OpenCV releases the GIL).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

import cv2
import numpy as np
from django.conf import settings

from webapp.labeling.selectors_loop import item_files_list
from workers.adapters.base import ItemImages


def _decode(path: str, mode: str) -> np.ndarray:
    flag = cv2.IMREAD_GRAYSCALE if mode == "L" else cv2.IMREAD_COLOR
    image = cv2.imread(path, flag)
    if image is None:
        raise OSError(f"cannot decode the working copy {path}")
    return image if mode == "L" else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def load_items(item_ids: Iterable[int], *, mode: str = "RGB", with_annotation: bool = False,
               threads: int | None = None) -> list[ItemImages]:
    """Items whose working copies are ready, in the order of ``item_ids`` (the others are left out)."""
    files = item_files_list(item_ids=item_ids, with_annotation=with_annotation)
    paths = [path for item in files for path in item.paths]
    with ThreadPoolExecutor(max_workers=max(1, threads or settings.LOUPE_DECODE_THREADS)) as pool:
        images = iter(list(pool.map(lambda p: _decode(p, mode), paths)))
    return [ItemImages(item_id=f.item_id, scope_key=f.scope_key, images=[next(images) for _ in f.paths],
                       original_sizes=f.original_sizes, roles=f.roles, meta=f.meta, annotation=f.annotation,
                       revision_id=f.revision_id)
            for f in files]
