"""Projects and work items."""
from __future__ import annotations

import hashlib
import unicodedata

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from webapp.assets.models import Asset
from webapp.core.errors import NotFound, ServiceError
from webapp.labeling.kinds import get_kind, suspect_thresholds_errors
from webapp.labeling.models import Project, ReviewSettingsChange, WorkItem, WorkItemAsset


SLUG_MAX = 100


def slug_from_name(name: str) -> str:
    """A URL slug (ASCII letters, digits, hyphens) for any Unicode name, never empty: accents are dropped
    (Zürich -> zurich); a name with no Latin letters or digits at all (emoji, CJK) gets a short hash of it."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = slugify(ascii_name)[:SLUG_MAX].strip("-_")
    if not slug:
        slug = "project-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return slug


def _unique_slug(base: str) -> str:
    slug, n = base, 2
    while Project.objects.filter(slug=slug).exists():
        suffix = f"-{n}"
        slug, n = base[:SLUG_MAX - len(suffix)] + suffix, n + 1
    return slug


def project_create(*, name: str, kind: str, scope_key: str = "", slug: str | None = None,
                   **settings) -> Project:
    """A new project. Without ``slug`` one is made from the name, unique (a -2, -3 ... suffix when taken);
    a ``slug`` given explicitly that is taken is refused."""
    try:
        get_kind(kind)
    except LookupError as exc:
        raise ServiceError(str(exc), details={"kind": [str(exc)]}) from None
    if slug:
        if Project.objects.filter(slug=slug).exists():
            raise ServiceError(f"a project with the slug {slug!r} exists already",
                               details={"slug": ["a project with this slug exists already"]})
    else:
        slug = _unique_slug(slug_from_name(name))
    try:
        with transaction.atomic():
            return Project.objects.create(name=name, kind=kind, scope_key=scope_key, slug=slug, **settings)
    except IntegrityError:  # a concurrent create took the slug between the check and the insert
        raise ServiceError(f"a project with the slug {slug!r} exists already",
                           details={"slug": ["a project with this slug exists already"]}) from None


# The label-quality settings: a change of any is audited (who, when, old -> new, why).
REVIEW_SHARES = ("review_sample_share", "review_full_below_accuracy", "review_audit_share", "control_rate",
                 "double_answer_share")
REVIEW_SETTINGS = (*REVIEW_SHARES, "suspect_thresholds")


def project_review_settings_update(*, project: Project, actor, suspect_thresholds: dict, reason: str = "",
                                   **shares) -> Project:
    """Set how much of the submitted work reviewers see (review by risk and its audit draw), the floor of full
    review, the control and double-answer shares and the kind's suspect-check thresholds; refused as a whole,
    saying what is wrong with each value, when any is out of range. Audited with ``actor`` and ``reason``."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(shares) - set(REVIEW_SHARES))
    if unknown:
        raise ServiceError(f"{unknown[0]}: not a review setting", details={unknown[0]: ["not a review setting"]})
    for name, value in shares.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            errors[name] = [f"must be a number between 0 and 1 (got {value!r})"]
    for name, message in suspect_thresholds_errors(project.kind, suspect_thresholds).items():
        errors[f"suspect_thresholds.{name}"] = [message]
    if errors:
        raise ServiceError("; ".join(f"{k}: {v[0]}" for k, v in errors.items()), details=errors)
    return project_update(project=project, actor=actor, reason=reason,
                          **{name: float(value) for name, value in shares.items()},
                          suspect_thresholds=dict(suspect_thresholds))


@transaction.atomic
def project_update(*, project: Project, actor=None, reason: str = "", **changes) -> Project:
    """Change a project's settings. Its kind is fixed once it has items: their annotations, predictions
    and exports follow the kind's schema. A change of a label-quality setting (``REVIEW_SETTINGS``) is
    recorded with ``actor`` (None: a script), its old and new values and ``reason``."""
    new_kind = changes.get("kind", project.kind)
    if new_kind != project.kind:
        try:
            get_kind(new_kind)
        except LookupError as exc:
            raise ServiceError(str(exc), details={"kind": [str(exc)]}) from None
        if WorkItem.objects.filter(project_id=project.pk).exists():
            message = f"the project has items of kind {project.kind!r}; its kind cannot change"
            raise ServiceError(message, details={"kind": [message]})
    slug = changes.get("slug")
    if slug is not None and Project.objects.filter(slug=slug).exclude(pk=project.pk).exists():
        raise ServiceError(f"a project with the slug {slug!r} exists already",
                           details={"slug": ["a project with this slug exists already"]})
    audited = {name: [getattr(project, name), changes[name]] for name in REVIEW_SETTINGS
               if name in changes and getattr(project, name) != changes[name]}
    for field_name, value in changes.items():
        setattr(project, field_name, value)
    project.save()
    if audited:
        ReviewSettingsChange.objects.create(project=project, changes=audited, actor=actor,
                                            reason=(reason or "").strip())
    return project


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
    # Another project's record is not this project's to show, even of the same bytes (it gets its own).
    missing = [a for a in asset_ids if a not in by_id or by_id[a].project_id not in (None, project.pk)]
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


def items_meta_merge(*, meta: dict[int, dict]) -> list[int]:
    """Merge ``{item id: {key: value}}`` into the items' meta (keys given replace the item's; others stay).
    Returns the ids of the items whose meta changed."""
    changed = []
    items = WorkItem.objects.select_for_update().in_bulk(list(meta))
    for item_id, values in meta.items():
        item = items.get(item_id)
        if item is None or all(item.meta.get(k) == v for k, v in values.items()):
            continue
        item.meta = {**item.meta, **values}
        changed.append(item)
    WorkItem.objects.bulk_update(changed, ["meta"], batch_size=500)
    return [item.pk for item in changed]
