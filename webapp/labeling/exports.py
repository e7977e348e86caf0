"""Exports of accepted annotations: JSON Lines for every kind, plus each kind's own formats (written by
the pure ``formats`` package). Every format is produced as a stream of chunks."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from webapp.labeling.kinds import ExportedItem, all_kinds, get_kind
from webapp.labeling.models import Project
from webapp.labeling.selectors import export_rows


def export_formats(kind: str) -> list[tuple[str, str]]:
    spec = get_kind(kind)
    return [("jsonl", "JSON Lines (all kinds)")] + [(f.name, f.label) for f in spec.exports.values()]


def export_format_names() -> list[str]:
    """Every export format name of every registered kind (the API's enum)."""
    return sorted({"jsonl"} | {name for spec in all_kinds() for name in spec.exports})


def _jsonl(rows: Iterable[ExportedItem]) -> Iterator[str]:
    for r in rows:
        yield json.dumps({"item": r.item_id, "external_id": r.external_id, "assets": r.assets,
                          "meta": r.meta, "annotation": r.annotation}) + "\n"


def export_render(*, project: Project, format_name: str) -> tuple[Iterator[str | bytes], str, str]:
    """(chunks, content type, file name) of the project's accepted items in ``format_name``; an unknown
    format raises LookupError before anything is read."""
    spec = get_kind(project.kind)
    if format_name == "jsonl":
        return _jsonl(export_rows(project_id=project.pk)), "application/x-ndjson", f"{project.slug}.jsonl"
    fmt = spec.exports.get(format_name)
    if fmt is None:
        names = ", ".join(n for n, _ in export_formats(project.kind))
        raise LookupError(f"unknown export format {format_name!r} for {spec.name}; one of {names}")
    chunks = iter(fmt.render(export_rows(project_id=project.pk)))
    return chunks, fmt.content_type, f"{project.slug}-{fmt.name}.{fmt.extension}"
