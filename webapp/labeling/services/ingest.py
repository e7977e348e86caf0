"""Work items from uploaded files: ingest the images (zips expanded), group them, create one item per group.

Groupings:
- ``single``: one item per image.
- ``series``: one item per group of images sharing a name prefix before the last ``_`` or ``-``
  (``balloon7_001.png``, ``balloon7_002.png`` -> one rotation series ``balloon7``), in natural order.
- ``pairs``: files named ``<stem>.<role>.<ext>`` for each of the kind's roles (omr:
  ``page1.original.png`` + ``page1.photo.jpg``) make one item; incomplete groups are reported.
Files in different folders never group together. Re-uploading the same images does not duplicate items.

Annotation files (COCO ``.json``, PAGE ``.xml``, omr's alignments or DeepScoresV2 ``.json``) beside the
images, or inside the zip, are imported as the items' proposals (see ``annotation_import``).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable

from webapp.assets import archive
from webapp.assets.models import Asset
from webapp.assets.services import IngestResult, assets_ingest_upload
from webapp.assets.storage import Source
from webapp.core.errors import ServiceError
from webapp.labeling.kinds import get_kind
from webapp.labeling.models import Project, WorkItemAsset
from webapp.labeling.services.annotation_import import (
    AnnotationFile, annotation_file_read, annotation_files_in_zip, annotations_import, is_annotation_name,
)
from webapp.labeling.services.items import item_create

GROUPINGS = ("single", "series", "pairs")
_SERIES = re.compile(r"^(?P<prefix>.+)[_-][^_-]*$")


@dataclass
class Group:
    key: str  # becomes the item's external_id
    names: list[str]
    assets: list[Asset]
    roles: list[str] | None = None


@dataclass
class ItemsIngestReport:
    results: list[IngestResult] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)  # {"id", "external_id", "files", "created"}
    unmatched: list[dict] = field(default_factory=list)  # {"name", "reason"}
    annotations: list[dict] = field(default_factory=list)  # {"name", "archive", "status", "items", "reason"}


def groupings_for_kind(kind: str) -> list[str]:
    """Which groupings make items this kind accepts (its fixed roles, or any number of shots)."""
    roles = get_kind(kind).asset_roles
    if len(roles) > 1:
        return ["pairs"]
    return ["single"] if roles else ["single", "series"]


def grouping_check(*, kind: str, grouping: str) -> None:
    allowed = groupings_for_kind(kind)
    if grouping not in allowed:
        raise ServiceError(f"grouping {grouping!r} does not fit a {kind} project; use {' or '.join(allowed)}",
                           details={"grouping": [f"one of {', '.join(allowed)}"]})


def _natural(name: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _split(name: str) -> tuple[str, str]:
    path = PurePosixPath(name.replace("\\", "/"))
    folder = "" if str(path.parent) == "." else f"{path.parent}/"
    return folder, path.name


def _stem(basename: str) -> str:
    return basename.rsplit(".", 1)[0] if "." in basename[1:] else basename


def _group_single(accepted: list[tuple[str, Asset]]) -> list[Group]:
    return [Group(key=_stem(name), names=[name], assets=[asset]) for name, asset in accepted]


def _group_series(accepted: list[tuple[str, Asset]]) -> list[Group]:
    groups: dict[str, Group] = {}
    for name, asset in sorted(accepted, key=lambda pair: _natural(pair[0])):
        folder, basename = _split(name)
        match = _SERIES.match(_stem(basename))
        key = folder + (match["prefix"] if match else _stem(basename))
        group = groups.setdefault(key, Group(key=key, names=[], assets=[]))
        group.names.append(name)
        group.assets.append(asset)
    return list(groups.values())


def _group_pairs(accepted: list[tuple[str, Asset]], roles: tuple[str, ...],
                 unmatched: list[dict]) -> list[Group]:
    pattern = re.compile(rf"^(?P<stem>.+)\.(?P<role>{'|'.join(map(re.escape, roles))})\.[^.]+$", re.IGNORECASE)
    by_stem: dict[str, dict[str, tuple[str, Asset]]] = defaultdict(dict)
    for name, asset in accepted:
        folder, basename = _split(name)
        match = pattern.match(basename)
        if not match:
            unmatched.append({"name": name, "reason": "not paired: name it <stem>." +
                              " or <stem>.".join(f"{r}.<ext>" for r in roles)})
            continue
        slot = by_stem[folder + match["stem"]]
        role = match["role"].lower()
        if role in slot:
            unmatched.append({"name": name, "reason": f"a second {role} file for {match['stem']!r}"})
            continue
        slot[role] = (name, asset)
    groups = []
    for stem, slot in by_stem.items():
        missing = [r for r in roles if r not in slot]
        if missing:
            unmatched += [{"name": name, "reason": f"not paired: no {' or '.join(missing)} file for {stem!r}"}
                          for name, _ in slot.values()]
            continue
        groups.append(Group(key=stem, names=[slot[r][0] for r in roles], assets=[slot[r][1] for r in roles],
                            roles=list(roles)))
    return groups


def _existing_items(project: Project, asset_ids: set[int]) -> dict[tuple[int, ...], int]:
    """Items of the project keyed by their exact, ordered list of asset ids."""
    item_ids = WorkItemAsset.objects.filter(item__project=project, asset_id__in=asset_ids).values("item_id")
    links = WorkItemAsset.objects.filter(item_id__in=item_ids).order_by("item_id", "position")
    by_item: dict[int, list[int]] = defaultdict(list)
    for item_id, asset_id in links.values_list("item_id", "asset_id"):
        by_item[item_id].append(asset_id)
    return {tuple(assets): item_id for item_id, assets in by_item.items()}


def _create_items(project: Project, groups: list[Group], report: ItemsIngestReport) -> None:
    existing = _existing_items(project, {a.pk for g in groups for a in g.assets})
    for group in groups:
        ids = [a.pk for a in group.assets]
        known = existing.get(tuple(ids))
        if known is not None:
            report.items.append({"id": known, "external_id": group.key, "files": group.names, "created": False})
            continue
        try:
            item = item_create(project=project, asset_ids=ids, roles=group.roles, external_id=group.key[:200])
        except ServiceError as exc:
            report.unmatched += [{"name": name, "reason": exc.message} for name in group.names]
            continue
        existing[tuple(ids)] = item.pk
        report.items.append({"id": item.pk, "external_id": group.key, "files": group.names, "created": True})


def items_ingest(*, project: Project, files: list[tuple[str, Source]], grouping: str, user=None,
                 progress: Callable[[str], None] | None = None,
                 member_progress: Callable[[int], None] | None = None) -> ItemsIngestReport:
    """Ingest ``files`` (name, bytes / file / Path; zips expanded) and make work items of them.

    Refused files and files that could not be grouped are reported and never stop the others.
    """
    grouping_check(kind=project.kind, grouping=grouping)
    report = ItemsIngestReport()
    annotation_files: list[AnnotationFile] = []
    for name, data in files:
        if is_annotation_name(name) and not archive.is_zip(data):
            annotation_files.append(annotation_file_read(name, data))
        else:
            results = assets_ingest_upload(data=data, name=name, user=user, project_id=project.pk,
                                           member_progress=member_progress).results
            # Annotation files inside a zip were refused as "not an image": read them as annotations.
            inside = {r.name for r in results if r.archive and r.status == "refused" and is_annotation_name(r.name)}
            if inside:
                annotation_files += annotation_files_in_zip(name, data, inside)
                results = [r for r in results if not (r.archive and r.name in inside)]
            report.results += results
        if progress:
            progress(name)
    accepted = [(r.name, r.asset) for r in report.results if r.asset is not None]
    if grouping == "series":
        groups = _group_series(accepted)
    elif grouping == "pairs":
        groups = _group_pairs(accepted, get_kind(project.kind).asset_roles, report.unmatched)
    else:
        groups = _group_single(accepted)
    _create_items(project, groups, report)
    if annotation_files:
        report.annotations = annotations_import(spec=get_kind(project.kind), files=annotation_files, items=report.items)
    return report
