"""Reading zip uploads defensively: which members to read, which to refuse, and how much to read at most.

Members are never extracted by their names (each is hashed into content-addressed storage), so a
``../`` name cannot write anywhere; such members are still refused, since they signal a crafted archive.
Declared sizes can lie, so the caller also bounds what it actually reads (``Member.max_bytes``).
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

from django.conf import settings

ZIP_MAGIC = b"PK\x03\x04"
# A deflate stream cannot expand more than ~1032:1; only a crafted member gets close.
MAX_RATIO = 200
# Members above this size are checked for their ratio one by one: images are compressed already (~1:1),
# while 2,000 zero-filled 1 MiB members compress ~1000:1 each.
RATIO_CHECK_FROM = 64 * 1024
# An archive unpacking to more than this in all is also checked for its overall ratio.
TOTAL_RATIO_CHECK_FROM = 64 * 1024 * 1024
_IGNORED_PARTS = {"__MACOSX", ".DS_Store", "Thumbs.db"}


@dataclass
class Member:
    name: str
    info: zipfile.ZipInfo | None
    max_bytes: int = 0
    refusal: str = ""


def is_zip(source: bytes | BinaryIO | Path) -> bool:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source[:4]) == ZIP_MAGIC
    if isinstance(source, Path):
        with open(source, "rb") as f:
            return f.read(4) == ZIP_MAGIC
    position = source.tell()
    head = source.read(4)
    source.seek(position)
    return head == ZIP_MAGIC


def open_zip(source: bytes | BinaryIO | Path) -> zipfile.ZipFile:
    """Raises zipfile.BadZipFile (or OSError) for something that is not a readable archive."""
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    elif not isinstance(source, Path):
        source.seek(0)
    return zipfile.ZipFile(source)


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":") or "\x00" in name


def _ignored(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(p in _IGNORED_PARTS or p.startswith("._") for p in parts)


def _refusal(info: zipfile.ZipInfo, budget: int) -> str:
    limit = settings.LOUPE_MAX_UPLOAD_BYTES
    if _unsafe(info.filename):
        return "unsafe path in the archive (absolute or with '..'); refused"
    if info.flag_bits & 0x1:
        return "encrypted archive member; refused"
    if info.filename.lower().endswith(".zip"):
        return "a nested zip archive; archives inside archives are not expanded"
    if info.file_size > limit:
        return f"{info.file_size:,} bytes when unpacked is over the limit of {limit:,}"
    if info.file_size > RATIO_CHECK_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return f"compressed {info.file_size // max(info.compress_size, 1):,}:1, a possible zip bomb; refused"
    if info.file_size > budget:
        return "the archive unpacks to more than the limit of " \
               f"{settings.LOUPE_MAX_ZIP_EXPANDED_BYTES:,} bytes; refused from here on"
    return ""


def _files(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [i for i in archive.infolist() if not i.is_dir() and not _ignored(i.filename)]


def zip_refusal(archive: zipfile.ZipFile) -> str:
    """Why the whole archive is refused before anything is read (from its directory alone), or ''."""
    infos = _files(archive)
    max_members = settings.LOUPE_MAX_ZIP_MEMBERS
    if len(infos) > max_members:
        return f"the archive holds {len(infos):,} files; at most {max_members:,} are accepted"
    expanded = sum(i.file_size for i in infos)
    if expanded > settings.LOUPE_MAX_ZIP_EXPANDED_BYTES:
        return (f"the archive unpacks to {expanded:,} bytes; at most "
                f"{settings.LOUPE_MAX_ZIP_EXPANDED_BYTES:,} are accepted")
    compressed = max(sum(i.compress_size for i in infos), 1)
    if expanded > TOTAL_RATIO_CHECK_FROM and expanded > MAX_RATIO * compressed:
        return f"the archive is compressed {expanded // compressed:,}:1 overall, a possible zip bomb"
    return ""


def zip_members(archive: zipfile.ZipFile) -> Iterator[Member]:
    """The files of an archive in order, each with a refusal reason or a byte budget to read it with."""
    budget = settings.LOUPE_MAX_ZIP_EXPANDED_BYTES
    infos = _files(archive)
    max_members = settings.LOUPE_MAX_ZIP_MEMBERS
    for info in infos[:max_members]:
        refusal = _refusal(info, budget)
        if refusal:
            yield Member(name=info.filename, info=info, refusal=refusal)
            continue
        # Bound the real read too: a forged header may declare a small size for a large stream.
        max_bytes = min(settings.LOUPE_MAX_UPLOAD_BYTES, budget)
        yield Member(name=info.filename, info=info, max_bytes=max_bytes)
        budget -= info.file_size
    if len(infos) > max_members:
        yield Member(name=f"({len(infos) - max_members} more files)", info=None,
                     refusal=f"the archive holds {len(infos):,} files; at most {max_members:,} are read")
