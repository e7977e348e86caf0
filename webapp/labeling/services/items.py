"""Projects and work items."""
from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils.text import slugify

from webapp.assets.models import Asset
from webapp.core.errors import NotFound, ServiceError
from webapp.labeling.kinds import get_kind
from webapp.labeling.models import Project, WorkItem, WorkItemAsset


def project_create(*, name: str, kind: str, scope_key: str = "", slug: str | None = None,
                   **settings) -> Project:
    try:
        get_kind(kind)
    except LookupError as exc:
        raise ServiceError(str(exc)) from None
    slug = slug or slugify(name)[:100]
    if Project.objects.filter(slug=slug).exists():
        raise ServiceError(f"a project with the slug {slug!r} exists already")
    return Project.objects.create(name=name, kind=kind, scope_key=scope_key, slug=slug, **settings)


def _golden(project: Project, assets: list[Asset]) -> bool:
    """Deterministic golden-set membership from the content: the same images always land the same way."""
    digest = hashlib.sha256("".join(a.sha256 for a in assets).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < project.golden_share


@transaction.atomic
def item_create(*, project: Project, asset_ids: list[int], roles: list[str] | None = None,
                external_id: str = "", meta: dict | None = None, split: str | None = None) -> WorkItem:
    spec = get_kind(project.kind)
    if not asset_ids:
        raise ServiceError("a work item needs at least one image")
    if spec.asset_roles and len(asset_ids) != len(spec.asset_roles):
        raise ServiceError(f"a {spec.name} item takes {len(spec.asset_roles)} images "
                           f"({', '.join(spec.asset_roles)}); {len(asset_ids)} given")
    by_id = Asset.objects.in_bulk(asset_ids)
    missing = [a for a in asset_ids if a not in by_id]
    if missing:
        raise NotFound(f"no asset with id {', '.join(map(str, missing))}")
    assets = [by_id[a] for a in asset_ids]
    roles = list(roles or spec.asset_roles or ["shot"] * len(assets))
    if split is None:
        split = WorkItem.Split.GOLDEN if _golden(project, assets) else WorkItem.Split.POOL
    item = WorkItem.objects.create(project=project, external_id=external_id, meta=meta or {}, split=split)
    WorkItemAsset.objects.bulk_create([
        WorkItemAsset(item=item, asset=asset, position=i, role=roles[i] if i < len(roles) else "")
        for i, asset in enumerate(assets)
    ])
    from webapp.labeling.services.events import depth_event
    from webapp.labeling.services.loop import item_predict_request

    depth_event(project.pk)
    item_predict_request(item_id=item.pk)
    return item
