"""Existing annotations uploaded with the images (COCO JSON, PAGE XML, a kind's own JSON; beside them or
inside the zip) become the items' proposals (source: import), shown to the operator like a model's
prediction and counted as corrections once accepted. A kind's file may also bring facts about the item
(``Imported.meta``: an omr original's symbols), merged into the item's meta with the proposals.

Each annotation file is taken whole or refused whole with the reason (a file that does not parse, names
an unknown class, or puts a shape outside its image): nothing of a bad file is stored, and the good
files import. Images are matched by file name (without folders) among the images of the same upload.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.db import transaction

from webapp.assets import archive
from webapp.assets.storage import Source
from webapp.labeling.kinds import AnnotationError, Imported, KindSpec
from webapp.labeling.selectors import items_asset_dims
from webapp.labeling.services.items import items_meta_merge
from webapp.labeling.services.predictions import predictions_import

ANNOTATION_SUFFIXES = (".json", ".xml")


@dataclass
class AnnotationFile:
    name: str
    content: bytes | None
    archive: str = ""
    refusal: str = ""


def is_annotation_name(name: str) -> bool:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower() in ANNOTATION_SUFFIXES


def _basename(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name.lower()


def annotation_file_read(name: str, data: Source) -> AnnotationFile:
    """An uploaded annotation file's bytes, bounded by LOUPE_MAX_ANNOTATION_BYTES."""
    limit = settings.LOUPE_MAX_ANNOTATION_BYTES
    if isinstance(data, (bytes, bytearray)):
        content = bytes(data[:limit + 1])
    elif hasattr(data, "read_bytes"):
        with open(data, "rb") as f:
            content = f.read(limit + 1)
    else:
        data.seek(0)
        content = data.read(limit + 1)
    if len(content) > limit:
        return AnnotationFile(name, None, refusal=f"an annotation file over the limit of {limit:,} bytes")
    return AnnotationFile(name, content)


def annotation_files_in_zip(name: str, data: Source, members: set[str]) -> list[AnnotationFile]:
    """The annotation files among the members of an uploaded zip (``members``: their names)."""
    out = []
    limit = settings.LOUPE_MAX_ANNOTATION_BYTES
    with archive.open_zip(data) as bundle:
        for member in archive.zip_members(bundle):
            if member.name not in members:
                continue
            if member.refusal or member.info.file_size > limit:
                refusal = member.refusal or f"over the limit of {limit:,} bytes"
                out.append(AnnotationFile(member.name, None, name, refusal))
                continue
            try:
                with bundle.open(member.info) as stream:
                    content = stream.read(limit + 1)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                out.append(AnnotationFile(member.name, None, name, f"damaged archive member ({exc})"))
                continue
            if len(content) > limit:  # a forged header may declare less than the member holds
                out.append(AnnotationFile(member.name, None, name, f"over the limit of {limit:,} bytes"))
            else:
                out.append(AnnotationFile(member.name, content, name))
    return out


def _reason(exc: AnnotationError) -> str:
    shown = "; ".join(f"{e['path']}: {e['message']}" for e in exc.errors[:10])
    return shown + (f"; and {len(exc.errors) - 10} more" if len(exc.errors) > 10 else "")


def annotations_import(*, spec: KindSpec, files: list[AnnotationFile], items: list[dict]) -> list[dict]:
    """Import each annotation file onto the upload's ``items`` ({"id", "files"}); one outcome per file:
    {"name", "archive", "status": imported | refused, "items", "reason"}."""
    by_image: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for item in items:
        for position, image in enumerate(item["files"]):
            by_image[_basename(image)].append((item["id"], position))
    dims = items_asset_dims(item_ids=[i["id"] for i in items])
    outcomes = []
    for f in files:
        outcome = {"name": f.name, "archive": f.archive, "status": "refused", "items": 0, "reason": f.refusal}
        if f.content is not None:
            try:
                annotations, metas, note = _annotations_of(f, spec, by_image, dims)
            except _Refused as exc:
                outcome["reason"] = str(exc)
            else:
                with transaction.atomic():   # a file's proposals and item facts land together or not at all
                    predictions_import(annotations=annotations)
                    items_meta_merge(meta=metas)
                outcome.update(status="imported", items=len(set(annotations) | set(metas)), reason=note)
        outcomes.append(outcome)
    return outcomes


class _Refused(Exception):
    """An annotation file refused whole; the message says why."""


def _annotations_of(f: AnnotationFile, spec: KindSpec, by_image: dict[str, list[tuple[int, int]]],
                    dims: dict[int, list]) -> tuple[dict[int, dict], dict[int, dict], str]:
    """({item id: validated annotation}, {item id: meta to merge}, a note) of one file, or _Refused with the
    reason."""
    suffix = PurePosixPath(f.name.replace("\\", "/")).suffix.lower()
    reader = spec.import_readers.get(suffix)
    if reader is None or spec.import_assemble is None:
        known = ", ".join(spec.import_readers) or "none"
        raise _Refused(f"a {spec.name} project imports no {suffix} annotation files (it reads: {known})")
    try:
        parts = reader(f.content)
    except AnnotationError as exc:
        raise _Refused(_reason(exc)) from None
    except (ValueError, ET.ParseError) as exc:
        raise _Refused(str(exc)) from None
    per_item: dict[int, dict[int, Any]] = defaultdict(dict)
    unknown, ambiguous = [], []
    for image, part in parts.items():
        hits = by_image.get(_basename(image), [])
        if len(hits) > 1:
            ambiguous.append(image)
        elif hits:
            item_id, position = hits[0]
            per_item[item_id][position] = part
        else:
            unknown.append(image)
    if ambiguous:
        raise _Refused(f"image names shared by several uploaded images: {', '.join(ambiguous[:5])}")
    if not per_item:
        raise _Refused(f"names none of the images of this upload ({', '.join(list(parts)[:5]) or 'no image at all'})")
    annotations, metas, errors = {}, {}, []
    for item_id, by_position in per_item.items():
        try:
            assembled = spec.import_assemble([by_position.get(k) for k in range(len(dims[item_id]))], dims[item_id])
            if not isinstance(assembled, Imported):
                assembled = Imported(assembled)
            if assembled.annotation is not None:
                annotations[item_id] = spec.validate(assembled.annotation, dims[item_id])
            if assembled.meta:
                metas[item_id] = assembled.meta
        except AnnotationError as exc:
            images = [img for img in parts if any(h[0] == item_id for h in by_image.get(_basename(img), []))]
            errors.append(f"{', '.join(images[:3])}: {_reason(exc)}")
    if errors:
        raise _Refused("; ".join(errors[:10]))
    note = f"{len(unknown)} image(s) not in this upload: {', '.join(unknown[:5])}" if unknown else ""
    return annotations, metas, note
