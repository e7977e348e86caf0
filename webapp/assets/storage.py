"""Where asset files live (webapp/core/filestore.py: MEDIA_ROOT or the object store), and writing them so
that a reader never sees half a file.

Uploads are spooled to a temporary file on local disk (hashing as they stream, never holding a large file
in memory), then moved into MEDIA_ROOT with an atomic rename, or streamed to the object store from that
file (a PUT is atomic). A tile pyramid is built in a fresh local folder, then swapped into place under
MEDIA_ROOT, or uploaded under a prefix of its own that the asset's row names only once it is complete.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO, Union

from webapp.core import filestore

Source = Union[bytes, bytearray, memoryview, BinaryIO, Path]
_CHUNK = 1024 * 1024


class TooLarge(Exception):
    def __init__(self, size: int):
        self.size = size


def media_root() -> Path:
    return filestore.media_root()


def media_path(relative: str) -> Path:
    return media_root() / relative


def original_relpath(sha256: str, extension: str) -> str:
    return f"assets/{sha256[:2]}/{sha256}.{extension}"


def derived_relpath(sha256: str) -> str:
    return f"derived/{sha256}"


def _tmp_dir() -> Path:
    return filestore.scratch_dir("tmp")


exists = filestore.exists
local_path = filestore.local_path
open_stream = filestore.open_stream
delete = filestore.delete
is_remote = filestore.is_remote


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


def place(tmp: Path, relative: str) -> None:
    """Store a spooled file under its final name atomically (same content-addressed name: replacing is safe)."""
    filestore.save_file(relative, tmp)


def new_work_dir(sha256: str) -> Path:
    """A fresh local folder to build an asset's derivatives in before they are published."""
    if filestore.is_remote():
        work = filestore.scratch_dir("tmp") / f"derived-{sha256[:16]}-{uuid.uuid4().hex[:8]}"
        work.mkdir()
        return work
    final = media_path(derived_relpath(sha256))
    final.parent.mkdir(parents=True, exist_ok=True)
    work = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"
    work.mkdir()
    return work


def publish_derived(work: Path, sha256: str) -> str:
    """Make the derivatives built in ``work`` the asset's; returns the folder name the row is to record.

    Local: the folder replaces ``derived/<sha>`` (readers see the old or the new one, never a mix). Object
    store: the files go under a new prefix ``derived/<sha>/<build>``, complete before any row names it, the
    tiles packed into one object (tilepack.py)."""
    if not filestore.is_remote():
        relative = derived_relpath(sha256)
        swap_dir(work, relative)
        return relative
    from webapp.assets.tilepack import pack_tiles

    relative = f"{derived_relpath(sha256)}/{uuid.uuid4().hex[:12]}"
    try:
        pack_tiles(work)
        filestore.save_tree(relative, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return relative


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
