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
from django.db.models import Prefetch

from webapp.assets.models import Asset
from webapp.assets.storage import media_path
from webapp.labeling.models import WorkItem, WorkItemAsset
from workers.adapters.base import ItemImages


def _decode(path: str, mode: str) -> np.ndarray:
    flag = cv2.IMREAD_GRAYSCALE if mode == "L" else cv2.IMREAD_COLOR
    image = cv2.imread(path, flag)
    if image is None:
        raise OSError(f"cannot decode the working copy {path}")
    return image if mode == "L" else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _links(qs):
    return qs.prefetch_related(Prefetch("item_assets", queryset=WorkItemAsset.objects.select_related("asset")
                                        .order_by("position")))


def ready(item: WorkItem) -> bool:
    links = list(item.item_assets.all())
    return bool(links) and all(link.asset.derivatives == Asset.Derivatives.READY and link.asset.working_copy
                               for link in links)


def load_items(item_ids: Iterable[int], *, mode: str = "RGB", with_annotation: bool = False,
               threads: int | None = None) -> list[ItemImages]:
    """Items whose working copies are ready, in the order of ``item_ids`` (the others are left out)."""
    ids = list(dict.fromkeys(item_ids))
    qs = _links(WorkItem.objects.filter(pk__in=ids).select_related("project", "head_revision"))
    by_id = {item.pk: item for item in qs}
    items = [by_id[i] for i in ids if i in by_id and ready(by_id[i])]
    if with_annotation:
        items = [i for i in items if i.head_revision is not None]
    paths = [str(media_path(link.asset.working_copy)) for item in items for link in item.item_assets.all()]
    with ThreadPoolExecutor(max_workers=max(1, threads or settings.LOUPE_DECODE_THREADS)) as pool:
        images = iter(list(pool.map(lambda p: _decode(p, mode), paths)))
    out = []
    for item in items:
        links = list(item.item_assets.all())
        out.append(ItemImages(
            item_id=item.pk, scope_key=item.project.scope_key, images=[next(images) for _ in links],
            original_sizes=[(link.asset.width, link.asset.height) for link in links],
            roles=[link.role for link in links], meta=dict(item.meta or {}),
            annotation=item.head_revision.annotation if with_annotation else None,
            revision_id=item.head_revision_id))
    return out
