"""Exports of accepted annotations: JSON Lines for every kind, plus each kind's own formats."""
from __future__ import annotations

import json

from webapp.labeling.kinds import get_kind
from webapp.labeling.models import Project
from webapp.labeling.selectors import export_rows


def export_formats(kind: str) -> list[tuple[str, str]]:
    spec = get_kind(kind)
    return [("jsonl", "JSON Lines (all kinds)")] + [(f.name, f.label) for f in spec.exports.values()]


def export_render(*, project: Project, format_name: str) -> tuple[str | bytes, str, str]:
    """(body, content type, file name) of the project's accepted items in ``format_name``."""
    spec = get_kind(project.kind)
    rows = export_rows(project_id=project.pk)
    if format_name == "jsonl":
        body = "".join(json.dumps({"item": r.item_id, "external_id": r.external_id, "assets": r.assets,
                                   "meta": r.meta, "annotation": r.annotation}) + "\n" for r in rows)
        return body, "application/x-ndjson", f"{project.slug}.jsonl"
    fmt = spec.exports.get(format_name)
    if fmt is None:
        names = ", ".join(n for n, _ in export_formats(project.kind))
        raise LookupError(f"unknown export format {format_name!r} for {spec.name}; one of {names}")
    return fmt.render(rows), fmt.content_type, f"{project.slug}-{fmt.name}.{fmt.extension}"
