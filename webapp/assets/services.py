"""Writes of the assets app: ingesting images (single files and zip archives) and building derivatives."""
from __future__ import annotations

import logging
import shutil
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Callable

import pyvips
from django.conf import settings
from django.db import IntegrityError, transaction

from webapp.assets import archive, derivatives, storage
from webapp.assets.models import Asset
from webapp.assets.validation import AssetOverBudget, AssetRejected, AssetTooLarge, image_validate
from webapp.core import tasknames
from webapp.core.ratelimit import window_add, window_peek
from webapp.core.tasks import enqueue

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """What happened to one uploaded file (or one member of an uploaded zip)."""

    name: str
    status: str  # created | duplicate | refused
    reason: str = ""
    asset: Asset | None = None
    archive: str = ""
    too_large: bool = False
    over_budget: bool = False

    def as_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k not in ("asset", "too_large", "over_budget")}
        out["asset_id"] = self.asset.pk if self.asset else None
        return out


@dataclass
class IngestReport:
    results: list[IngestResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def _display_name(name: str) -> str:
    return (PurePosixPath(name.replace("\\", "/")).name or "unnamed")[:255]


PIXEL_WINDOW_SECONDS = 3600


def _charge_pixels(user, *, name: str, pixels: int) -> None:
    """Count a new image's pixels against the uploader's hourly budget; refuse it when it would go over."""
    if not getattr(user, "pk", None):
        return  # a command-line import on the server itself
    budget = settings.LOUPE_UPLOAD_PIXELS_PER_HOUR
    counter = f"upload-pixels:{user.pk}:{user.date_joined.timestamp():.6f}"
    spent = window_peek(counter, limit=budget, window=PIXEL_WINDOW_SECONDS)
    if spent.count + pixels > budget:
        raise AssetOverBudget(name, f"{pixels / 1e6:,.1f} Mpx would go over your upload budget of "
                                    f"{budget / 1e6:,.0f} Mpx per hour ({spent.count / 1e6:,.1f} used); "
                                    f"try again in {spent.retry_after} s")
    window_add(counter, limit=budget, window=PIXEL_WINDOW_SECONDS, amount=pixels)


def _scope(*, project_id: int | None, user) -> dict:
    """Which records a new upload may be a duplicate of: the project's own, or outside any project the
    uploader's own. Another project's (another user's) copy of the same bytes is never revealed."""
    if project_id is not None:
        return {"project_id": project_id}
    uploader = user if getattr(user, "pk", None) else None
    return {"project__isnull": True, "uploaded_by": uploader} if uploader else \
        {"project__isnull": True, "uploaded_by__isnull": True}


def _shared_derivatives(sha: str) -> dict:
    """The derivative fields of a record of the same bytes whose files are built, to reuse them; else {}."""
    for twin in Asset.objects.filter(sha256=sha, derivatives=Asset.Derivatives.READY):
        if all(storage.exists(p) for p in (twin.working_copy, twin.dzi)):
            return {"working_copy": twin.working_copy, "working_width": twin.working_width,
                    "working_height": twin.working_height, "dzi": twin.dzi, "derivatives": twin.derivatives}
    return {}


def _ingest(source: storage.Source, *, name: str, user, max_bytes: int,
            project_id: int | None = None) -> tuple[Asset, bool]:
    try:
        tmp, sha, size = storage.spool(source, max_bytes=max_bytes)
    except storage.TooLarge as exc:
        raise AssetTooLarge(name, f"{exc.size:,} bytes or more is over the limit of {max_bytes:,}") from None
    scope = _scope(project_id=project_id, user=user)
    try:
        existing = Asset.objects.filter(sha256=sha, **scope).first()
        if existing is not None:
            if not storage.exists(existing.original):  # heal a lost original with the same bytes
                storage.place(tmp, existing.original)
            return existing, False
        # A copy of bytes stored for someone else is handled as a first upload (validated, charged), so
        # that the answer says nothing of the other copy; only the stored files are shared.
        info = image_validate(path=tmp, name=name)
        _charge_pixels(user, name=name, pixels=info.width * info.height)
        relative = storage.original_relpath(sha, info.extension)
        storage.place(tmp, relative)
        derived = _shared_derivatives(sha)
        try:
            with transaction.atomic():
                asset = Asset.objects.create(
                    sha256=sha, original=relative, original_name=_display_name(name), format=info.format,
                    mode=info.mode, width=info.width, height=info.height, byte_size=size,
                    exif_orientation=info.orientation, uploaded_by=user if getattr(user, "pk", None) else None,
                    project_id=project_id, **derived)
                if not derived:
                    enqueue(tasknames.ASSET_DERIVATIVES, asset.pk)
        except IntegrityError:  # the same bytes were uploaded concurrently into the same scope and won the race
            return Asset.objects.get(sha256=sha, **scope), False
        return asset, True
    finally:
        tmp.unlink(missing_ok=True)


def asset_ingest(*, data: storage.Source, name: str, user=None, project_id: int | None = None) -> tuple[Asset, bool]:
    """Validate and store one image for ``project_id`` (None: outside any project, the uploader's own); a
    file with the same content in the same project (of the same uploader) returns that asset (created False).

    Raises AssetRejected (AssetTooLarge over the byte limit) naming the file and the reason. The
    derivatives of a new asset are queued on the cpu queue once the transaction commits (or reused from
    a record of the same bytes elsewhere).
    """
    return _ingest(data, name=name, user=user, max_bytes=settings.LOUPE_MAX_UPLOAD_BYTES, project_id=project_id)


def _result(name: str, ingest, **extra) -> IngestResult:
    try:
        asset, created = ingest()
    except AssetRejected as exc:
        return IngestResult(name=name, status="refused", reason=exc.reason, too_large=isinstance(exc, AssetTooLarge),
                            over_budget=isinstance(exc, AssetOverBudget), **extra)
    return IngestResult(name=name, status="created" if created else "duplicate", asset=asset, **extra)


def assets_ingest_zip(*, data: storage.Source, name: str, user=None, project_id: int | None = None,
                      member_progress: Callable[[int], None] | None = None) -> IngestReport:
    """Ingest every image of a zip archive; a bad member is reported and never stops the good ones.
    ``member_progress`` is called with the number of members handled so far."""
    report = IngestReport()
    try:
        bundle = archive.open_zip(data)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise AssetRejected(name, f"not a readable zip archive ({exc})") from None
    with bundle:
        refusal = archive.zip_refusal(bundle)
        if refusal:
            raise AssetRejected(name, refusal)
        for done, member in enumerate(archive.zip_members(bundle), start=1):
            if member.refusal:
                report.results.append(IngestResult(name=member.name, status="refused", reason=member.refusal,
                                                   archive=name))
            else:
                report.results.append(_zip_member_result(bundle, member, archive_name=name, user=user,
                                                         project_id=project_id))
            if member_progress:
                member_progress(done)
    return report


def _zip_member_result(bundle: zipfile.ZipFile, member: archive.Member, *, archive_name: str, user,
                       project_id: int | None) -> IngestResult:
    def ingest():
        try:
            with bundle.open(member.info) as stream:
                return _ingest(stream, name=member.name, user=user, max_bytes=member.max_bytes, project_id=project_id)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise AssetRejected(member.name, f"damaged archive member ({exc})") from None

    return _result(member.name, ingest, archive=archive_name)


def assets_ingest_upload(*, data: storage.Source, name: str, user=None, project_id: int | None = None,
                         member_progress: Callable[[int], None] | None = None) -> IngestReport:
    """One uploaded file: a zip (recognised by content) expands to its members, anything else is one image."""
    if archive.is_zip(data):
        try:
            return assets_ingest_zip(data=data, name=name, user=user, project_id=project_id,
                                     member_progress=member_progress)
        except AssetRejected as exc:
            return IngestReport([IngestResult(name=name, status="refused", reason=exc.reason)])
    return IngestReport([_result(name, lambda: asset_ingest(data=data, name=name, user=user, project_id=project_id))])


def asset_build_derivatives(*, asset_id: int, force: bool = False) -> str:
    """Build the working copy and the DZI pyramid of an asset; idempotent. Returns the derivatives state."""
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        return "missing"
    if not force and asset.derivatives == Asset.Derivatives.READY and all(
            storage.exists(p) for p in (asset.working_copy, asset.dzi) if p):
        return asset.derivatives
    shared = {} if force else _shared_derivatives(asset.sha256)
    if shared:  # another record of the same bytes built them meanwhile
        Asset.objects.filter(pk=asset_id).update(derivatives_error="", **shared)
        return Asset.Derivatives.READY
    work = storage.new_work_dir(asset.sha256)
    try:
        source = storage.local_path(asset.original)
        made = derivatives.build_working_copy(source, work, long_side=settings.LOUPE_WORKING_COPY_LONG_SIDE)
        derivatives.build_tiles(source, work)
        relative = storage.publish_derived(work, asset.sha256)
    except (pyvips.Error, OSError) as exc:
        shutil.rmtree(work, ignore_errors=True)
        log.warning("derivatives of asset %s failed: %s", asset_id, exc)
        Asset.objects.filter(pk=asset_id).update(derivatives=Asset.Derivatives.FAILED,
                                                 derivatives_error=str(exc)[:4000])
        return Asset.Derivatives.FAILED
    Asset.objects.filter(pk=asset_id).update(
        working_copy=f"{relative}/{made.working_name}", working_width=made.working_width,
        working_height=made.working_height, dzi=f"{relative}/{derivatives.DZI_BASENAME}.dzi",
        derivatives=Asset.Derivatives.READY, derivatives_error="")
    return Asset.Derivatives.READY
