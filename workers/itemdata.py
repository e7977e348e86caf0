"""Items as the models see them: working copies decoded in parallel, annotations of accepted revisions.

Workers read working copies (long side ~1600 px), never the originals: decoding a 600 dpi page costs
far more than the model's time on a GPU. Threads decode in parallel (OpenCV releases the GIL), on one
pool per process. Where the model works at a smaller size than the working copy, the JPEG is decoded
straight at 1/2, 1/4 or 1/8 of its size (libjpeg scales while decoding), never below the model's input
side: the annotations' coordinates follow, since an item's scales are taken from the arrays it holds.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterable

import cv2
import numpy as np
from django.conf import settings

from webapp.core.filestore import local_path
from webapp.labeling.selectors_loop import ItemFiles, item_files_list
from workers.adapters.base import ItemImages

_REDUCED = {  # factor -> (grey flag, colour flag)
    8: (cv2.IMREAD_REDUCED_GRAYSCALE_8, cv2.IMREAD_REDUCED_COLOR_8),
    4: (cv2.IMREAD_REDUCED_GRAYSCALE_4, cv2.IMREAD_REDUCED_COLOR_4),
    2: (cv2.IMREAD_REDUCED_GRAYSCALE_2, cv2.IMREAD_REDUCED_COLOR_2),
    1: (cv2.IMREAD_GRAYSCALE, cv2.IMREAD_COLOR),
}
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def decode_pool() -> ThreadPoolExecutor:
    """The process's decoding threads (``LOUPE_DECODE_THREADS``), made on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, settings.LOUPE_DECODE_THREADS),
                                       thread_name_prefix="loupe-decode")
        return _pool


def reduction(working_size: tuple[int, int], min_side: int | None) -> int:
    """The largest decode-time reduction (8, 4, 2 or 1) that keeps both sides at ``min_side`` or more."""
    if not min_side:
        return 1
    short = min(working_size)
    return next(f for f in (8, 4, 2, 1) if f == 1 or short // f >= min_side)


def _working_size(original: tuple[int, int]) -> tuple[int, int]:
    """The working copy's size, as the derivatives task makes it (shrunk to the long side, never enlarged)."""
    w, h = original
    scale = min(1.0, settings.LOUPE_WORKING_COPY_LONG_SIDE / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _decode(name: str, mode: str, factor: int = 1) -> np.ndarray:
    grey, colour = _REDUCED[factor]
    path = str(local_path(name))   # from the store through the local cache on a machine of its own
    image = cv2.imread(path, grey if mode == "L" else colour)
    if image is None:
        raise OSError(f"cannot decode the working copy {path}")
    return image if mode == "L" else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def decode_files(files: list[ItemFiles], *, mode: str = "RGB", min_side: int | None = None) -> Future:
    """Start decoding ``files`` on the pool; the future's result is their ``ItemImages``, in order."""
    jobs = [decode_pool().submit(_decode, name, mode, reduction(_working_size(size), min_side))
            for f in files for name, size in zip(f.names, f.original_sizes)]
    done: Future = Future()

    def assemble() -> None:
        try:
            images = iter([job.result() for job in jobs])
            done.set_result([ItemImages(item_id=f.item_id, scope_key=f.scope_key,
                                        images=[next(images) for _ in f.names], original_sizes=f.original_sizes,
                                        roles=f.roles, meta=f.meta, annotation=f.annotation,
                                        revision_id=f.revision_id) for f in files])
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the batch
            done.set_exception(exc)

    if not jobs:
        assemble()
    else:
        remaining = [len(jobs)]
        lock = threading.Lock()

        def one_done(_):
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                assemble()

        for job in jobs:
            job.add_done_callback(one_done)
    return done


def load_items(item_ids: Iterable[int], *, mode: str = "RGB", with_annotation: bool = False,
               min_side: int | None = None) -> list[ItemImages]:
    """Items whose working copies are ready, in the order of ``item_ids`` (the others are left out)."""
    files = item_files_list(item_ids=item_ids, with_annotation=with_annotation)
    return decode_files(files, mode=mode, min_side=min_side).result()
