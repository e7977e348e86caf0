"""Reads of the articles kind: the page's articles recomputed from edited cuts (nothing is stored)."""
from __future__ import annotations

from typing import Any

from formats.articles import layout, validate
from webapp.core.errors import ServiceError
from webapp.labeling.selectors import item_asset_dims, item_detail, item_fresh_prediction


def article_page_layout(*, item_id: int) -> tuple[dict[str, Any], list[dict], int, int]:
    """(page geometry, cut candidates, width, height) of an item: what its fresh model prediction measured,
    else the whole page as the frame and no candidates."""
    item = item_detail(item_id=item_id)
    if item.project.kind != "articles":
        raise ServiceError(f"item {item_id} is a {item.project.kind} item, not a newspaper page",
                           details={"field": "item"})
    page = item_asset_dims(item_id=item_id)[0]
    prediction = item_fresh_prediction(item)
    scores = (prediction.scores if prediction is not None else None) or {}
    geometry = layout.page_geometry(scores.get("geometry"), page.width, page.height)
    candidates = scores.get("candidates") if isinstance(scores.get("candidates"), list) else []
    return geometry, candidates, page.width, page.height


def article_layout_recompute(*, item_id: int, cuts: list, articles: list | None = None,
                             snap: list[int] | None = None, merge: list[str] | None = None) -> dict[str, Any]:
    """The cuts (those at the ``snap`` indices snapped onto the page's gutters, rules, frame and the other
    cuts; two articles ``merge``d by removing the cuts between them) and the articles they make, ids and
    reading order following ``articles``. Bad input raises with the field named."""
    geometry, _, width, height = article_page_layout(item_id=item_id)
    clean = validate({"page_type": "article", "cuts": cuts, "articles": articles or []},
                     item_asset_dims(item_id=item_id))  # AnnotationError (400) names the field
    for k, i in enumerate(snap or []):
        if not 0 <= i < len(clean["cuts"]):
            raise ServiceError(f"snap[{k}] = {i} names no cut: there are {len(clean['cuts'])}",
                               details={"field": f"snap[{k}]"})
    pair = None
    if merge:
        pair = (merge[0], merge[1])
        known = {a["id"] for a in clean["articles"]}
        for k, aid in enumerate(pair):
            if aid not in known:
                raise ServiceError(f"merge[{k}] = {aid!r} is not one of the articles sent",
                                   details={"field": f"merge[{k}]"})
    try:
        out = layout.recompute(cuts=clean["cuts"], geometry=geometry, width=width, height=height,
                               previous=clean["articles"], snap=snap, merge=pair)
    except layout.TooComplex as exc:
        raise ServiceError(str(exc), details={"field": "cuts"}) from None
    except ValueError as exc:  # two articles that do not meet along a cut
        raise ServiceError(str(exc), details={"field": "merge"}) from None
    return {**out, "geometry": geometry}
