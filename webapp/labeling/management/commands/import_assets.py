"""Import a folder of images (and zips) into a project as work items, with a progress bar."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from webapp.core.errors import ServiceError
from webapp.labeling.models import Project
from webapp.labeling.selectors import project_get
from webapp.labeling.services.ingest import GROUPINGS, groupings_for_kind, items_ingest


def _files(folder: Path) -> list[Path]:
    """Every file below ``folder`` in a stable order, skipping hidden files and folders."""
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


class Command(BaseCommand):
    help = ("Import the images of FOLDER (PNG, JPEG, TIFF, zips of them) into a project as work items; COCO (.json) "
            "or PAGE XML (.xml) files of those images (omr: alignments or DeepScoresV2 .json) become the items' "
            "proposals.")

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)
        parser.add_argument("--project", required=True, help="The project's slug.")
        parser.add_argument("--grouping", choices=GROUPINGS, default=None,
                            help="single, series or pairs (default: the first that fits the project's kind)")

    def handle(self, *args, folder: Path, project: str, grouping: str | None, **options):
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        try:
            target = project_get(slug=project)
        except Project.DoesNotExist:
            raise CommandError(f"no project with the slug {project!r}") from None
        paths = _files(folder)
        if not paths:
            raise CommandError(f"no files in {folder}")
        with tqdm(total=len(paths), unit="file", desc="import", disable=options.get("verbosity", 1) == 0) as bar:
            try:
                report = items_ingest(project=target, files=[(p.relative_to(folder).as_posix(), p) for p in paths],
                                      grouping=grouping or groupings_for_kind(target.kind)[0],
                                      progress=lambda name: bar.update(1))
            except ServiceError as exc:
                raise CommandError(exc.message) from None
        self._summary(report)
        if not any(r.asset is not None for r in report.results) and not any(
                a["status"] == "imported" for a in report.annotations):
            raise CommandError("nothing could be imported")

    def _summary(self, report) -> None:
        counts = Counter(r.status for r in report.results)
        new_items = sum(1 for i in report.items if i["created"])
        self.stdout.write(f"{counts['created']} created, {counts['duplicate']} duplicate, {counts['refused']} refused; "
                          f"{new_items} new work items ({len(report.items) - new_items} existed already)")
        for r in report.results:
            if r.status == "refused":
                where = f"{r.archive}: " if r.archive else ""
                self.stdout.write(self.style.WARNING(f"  refused {where}{r.name}: {r.reason}"))
        for u in report.unmatched:
            self.stdout.write(self.style.WARNING(f"  no item for {u['name']}: {u['reason']}"))
        for a in report.annotations:
            where = f"{a['archive']}: " if a["archive"] else ""
            if a["status"] == "imported":
                note = f" ({a['reason']})" if a["reason"] else ""
                self.stdout.write(f"  annotations {where}{a['name']}: proposals for {a['items']} items{note}")
            else:
                self.stdout.write(self.style.WARNING(f"  refused annotations {where}{a['name']}: {a['reason']}"))
