"""Large zip uploads are expanded by a worker, off the web request: the request stores the archive and
answers 202 with an import to follow; the worker reports progress on the import and leaves the upload
report there when done. Small archives are still expanded inline (the answer is immediate)."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.assets import archive, storage
from webapp.assets.models import ZipImport
from webapp.assets.validation import AssetRejected
from webapp.core import tasknames
from webapp.core.errors import NotFound
from webapp.core.tasks import enqueue


def zip_is_large(data: storage.Source) -> bool:
    """Whether a zip upload goes to a worker: more members or more bytes unpacked than an inline answer
    should wait for. An unreadable archive is not large (the inline path reports it)."""
    if not archive.is_zip(data):
        return False
    try:
        with archive.open_zip(data) as bundle:
            infos = [i for i in bundle.infolist() if not i.is_dir()]
    except Exception:  # noqa: BLE001 - any reading error is reported by the inline path
        return False
    finally:
        if hasattr(data, "seek"):
            data.seek(0)  # the next reader sniffs the type from the first bytes
    expanded = sum(i.file_size for i in infos)
    return len(infos) > settings.LOUPE_ZIP_INLINE_MEMBERS or expanded > settings.LOUPE_ZIP_INLINE_BYTES


def zip_import_queue(*, data: storage.Source, name: str, user, target: dict | None = None) -> ZipImport:
    """Check the archive up front (members, size, ratio: AssetRejected), store it, queue its expansion."""
    try:
        with archive.open_zip(data) as bundle:
            refusal = archive.zip_refusal(bundle)
            members = len([i for i in bundle.infolist() if not i.is_dir()])
    except (OSError, ValueError) as exc:
        raise AssetRejected(name, f"not a readable zip archive ({exc})") from None
    if refusal:
        raise AssetRejected(name, refusal)
    tmp, sha, _size = storage.spool(data, max_bytes=settings.LOUPE_MAX_UPLOAD_BYTES)
    relative = f"imports/{sha[:16]}-{timezone.now():%Y%m%d%H%M%S%f}.zip"
    storage.place(tmp, relative)
    with transaction.atomic():
        job = ZipImport.objects.create(name=name[:255], archive=relative, members_total=members, target=target or {},
                                       uploaded_by=user if getattr(user, "pk", None) else None)
        enqueue(tasknames.ZIP_IMPORT, job.pk)
    return job


def zip_import_get(*, import_id: int, user) -> ZipImport:
    """An import, for the user who uploaded it (or an admin)."""
    from webapp.accounts.roles import is_admin

    job = ZipImport.objects.filter(pk=import_id).first()
    if job is None or (job.uploaded_by_id != user.pk and not is_admin(user)):
        raise NotFound(f"no import {import_id}")
    return job


def zip_import_start(*, import_id: int) -> ZipImport | None:
    """Mark an import running; None when it is finished already (a redelivered task does nothing)."""
    job = ZipImport.objects.filter(pk=import_id).first()
    if job is None or job.state in (ZipImport.State.DONE, ZipImport.State.FAILED):
        return None
    ZipImport.objects.filter(pk=import_id).update(state=ZipImport.State.RUNNING, members_done=0)
    job.state = ZipImport.State.RUNNING
    return job


def zip_import_progress(*, import_id: int, done: int) -> None:
    ZipImport.objects.filter(pk=import_id).update(members_done=done)


def zip_import_finish(*, import_id: int, report: dict | None = None, error: str = "") -> None:
    job = ZipImport.objects.get(pk=import_id)
    state = ZipImport.State.FAILED if error else ZipImport.State.DONE
    ZipImport.objects.filter(pk=import_id).update(state=state, report=report, error=error[:4000],
                                                   finished_at=timezone.now(),
                                                   **({} if error else {"members_done": job.members_total}))
    storage.delete(job.archive)
