"""Fixtures of the asset pipeline tests: real image files made with Pillow (small), users, a project."""
from __future__ import annotations

import io
import itertools
import struct
import zipfile
import zlib

import pytest
from PIL import Image

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def image_bytes(fmt: str = "PNG", size=(64, 48), mode: str = "RGB", seed: int = 0, **save) -> bytes:
    """A small image whose content depends on ``seed`` (so two seeds never hash the same)."""
    image = Image.new(mode, size)
    image.putdata([((x * 7 + y * 3 + seed * 31) % 256,) * len(mode) if mode not in ("I;16", "I", "L") else
                   (x * 500 + y * 300 + seed * 17) % (65536 if mode.startswith("I") else 256)
                   for y in range(size[1]) for x in range(size[0])])
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` pixels but carries no pixel data (a crafted header)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def exif_rotated_jpeg(size=(80, 40), orientation: int = 6) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def make_project(make_project):
    """The shared ``make_project`` (members: the fixture team), with the default audit share."""

    def make(kind: str, **kwargs):
        kwargs.setdefault("audit_share", 0.10)
        return make_project(kind, **kwargs)

    return make


@pytest.fixture
def project(make_project):
    return make_project("catheter", name=f"Catheter line {next(_counter)}")


@pytest.fixture
def images():
    """The file makers above, for tests (conftest modules are not importable under importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(image=image_bytes, header_only=png_header_only, exif_rotated=exif_rotated_jpeg,
                           zip=make_zip)


