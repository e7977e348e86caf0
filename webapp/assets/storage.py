"""Where asset files live under MEDIA_ROOT, and writing them so that a reader never sees half a file.

Uploads are spooled to a temporary file on the same file system as their final place (hashing as they
stream, never holding a large file in memory), then moved there with an atomic rename.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO, Union

from django.conf import settings

Source = Union[bytes, bytearray, memoryview, BinaryIO, Path]
_CHUNK = 1024 * 1024


class TooLarge(Exception):
    def __init__(self, size: int):
        self.size = size


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def media_path(relative: str) -> Path:
    return media_root() / relative


def original_relpath(sha256: str, extension: str) -> str:
    return f"assets/{sha256[:2]}/{sha256}.{extension}"


def derived_relpath(sha256: str) -> str:
    return f"derived/{sha256}"


def _tmp_dir() -> Path:
    path = media_root() / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _chunks(source: Source):
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        for start in range(0, len(view), _CHUNK):
            yield view[start:start + _CHUNK]
        return
    if isinstance(source, Path):
        with open(source, "rb") as f:
            yield from iter(lambda: f.read(_CHUNK), b"")
        return
    if hasattr(source, "seek") and getattr(source, "seekable", lambda: True)():
        source.seek(0)
    yield from iter(lambda: source.read(_CHUNK), b"")


def spool(source: Source, *, max_bytes: int) -> tuple[Path, str, int]:
    """Copy ``source`` to a temporary file; return its path, sha256 and size. Stops past ``max_bytes``."""
    declared = len(source) if isinstance(source, (bytes, bytearray, memoryview)) else getattr(source, "size", None)
    if isinstance(source, Path):
        declared = source.stat().st_size
    if declared is not None and declared > max_bytes:
        raise TooLarge(declared)
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(dir=_tmp_dir(), prefix="upload-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in _chunks(source):
                size += len(chunk)
                if size > max_bytes:  # the declared size can lie (zip members, streams): count what comes
                    raise TooLarge(size)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size


def place(tmp: Path, relative: str) -> Path:
    """Move a spooled file to its final place atomically (same content-addressed name: replacing is safe)."""
    target = media_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return target


def new_work_dir(relative: str) -> Path:
    """A fresh sibling folder of ``relative`` to build derivatives in before swapping it into place."""
    final = media_path(relative)
    final.parent.mkdir(parents=True, exist_ok=True)
    work = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"
    work.mkdir()
    return work


def swap_dir(work: Path, relative: str) -> None:
    """Replace the folder at ``relative`` by ``work``; readers see the old or the new one, never a mix."""
    final = media_path(relative)
    trash = None
    if final.exists():
        trash = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.old"
        os.replace(final, trash)
    os.replace(work, final)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
