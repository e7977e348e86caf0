"""What makes a file an acceptable image: identified by its content, within limits, decodable to the end.

Pure functions over a file on disk (no database). Pillow identifies the format and reads the header
without decoding, so the pixel limit is checked before any pixel is decoded; libvips then decodes the
whole image in a streaming pass (constant memory), which is what catches truncated files, and is the
same decoder that later builds the derivatives.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import pyvips
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from webapp.core.errors import ServiceError

ACCEPTED = {"PNG": "png", "JPEG": "jpg", "TIFF": "tif"}  # Pillow format -> stored extension
# Pillow names a JPEG with a multi-picture index (many phone and camera photos) MPO; it is still a JPEG.
_ALIASES = {"MPO": "JPEG"}
_ORIENTATION_TAG = 0x0112

# Magic bytes of formats people commonly send by mistake, to say what the file is instead of "unknown".
_KNOWN_OTHERS = [
    (b"%PDF", "a PDF document"), (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"), (b"PK\x03\x04", "a zip archive"), (b"\x00\x00\x01\x00", "an ICO image"),
    (b"8BPS", "a Photoshop document"), (b"II\x2b\x00", "a BigTIFF (not supported)"),
    (b"MM\x00\x2b", "a BigTIFF (not supported)"),
]


class AssetRejected(ServiceError):
    """A file refused as an image; the message names the file and the reason."""

    code = "asset_rejected"

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}", details={"file": name, "reason": reason})
        self.name = name
        self.reason = reason


class AssetTooLarge(AssetRejected):
    status_code = 413
    code = "asset_too_large"


class AssetOverBudget(AssetRejected):
    """The uploader's pixel budget for the hour is spent (tiling work grows with pixels, not bytes)."""

    status_code = 429
    code = "upload_budget"


@dataclass(frozen=True)
class ImageInfo:
    format: str  # PNG, JPEG, TIFF
    extension: str
    mode: str  # Pillow's mode of the stored pixels, e.g. RGB, CMYK, I;16
    width: int  # after EXIF orientation
    height: int
    orientation: int  # EXIF orientation 1..8 (1 when absent or invalid)


def _describe_other(head: bytes) -> str:
    for magic, what in _KNOWN_OTHERS:
        if head.startswith(magic):
            return f"{what}, not a PNG, JPEG or TIFF image"
    if head[:1] in (b"<", b"{") or all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64]):
        return "text, not an image (accepted: PNG, JPEG, TIFF)"
    return "not a recognised image (accepted: PNG, JPEG, TIFF)"


def _orientation(image: Image.Image) -> int:
    try:
        value = int(image.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # noqa: BLE001 - broken EXIF must not refuse an otherwise good image
        return 1
    return value if 1 <= value <= 8 else 1


def _read_header(path: Path, name: str) -> ImageInfo:
    max_pixels = settings.LOUPE_MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        # Pillow warns above its own default limit; ours is checked right below, from the header.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=list(ACCEPTED)) as image:
                width, height = image.size
                fmt, mode, orientation = _ALIASES.get(image.format, image.format), image.mode, _orientation(image)
        except Image.DecompressionBombError:
            raise AssetRejected(name, "too many pixels: a possible decompression bomb") from None
        except UnidentifiedImageError:
            with open(path, "rb") as f:
                raise AssetRejected(name, _describe_other(f.read(64))) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise AssetRejected(name, f"unreadable image header ({exc})") from None
    if width < 1 or height < 1:
        raise AssetRejected(name, "the image has no pixels")
    if width * height > max_pixels:
        raise AssetRejected(name, f"{width}×{height} = {width * height:,} pixels is over the limit of "
                                  f"{max_pixels:,} (a possible decompression bomb)")
    if orientation >= 5:  # these orientations turn the image by 90°: the displayed size is swapped
        width, height = height, width
    return ImageInfo(format=fmt, extension=ACCEPTED[fmt], mode=mode, width=width, height=height,
                     orientation=orientation)


def _decode_fully(path: Path, name: str) -> None:
    """Decode every pixel once, streaming; truncated or corrupt data fails here instead of in a worker.

    fail_on="error" (not "truncated"): a cut uncompressed TIFF only shows as a libtiff error; libjpeg
    *warnings*, common in camera files, still pass.
    """
    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential", fail_on="error")
        image.avg()
    except pyvips.Error as exc:
        detail = " ".join(line.strip() for line in str(exc).splitlines()[1:3]) or str(exc)
        raise AssetRejected(name, f"truncated or corrupt image data ({detail})") from None


def image_validate(*, path: Path, name: str) -> ImageInfo:
    """Check a stored upload and describe it; raises AssetRejected naming the file and the reason."""
    size = path.stat().st_size
    if size == 0:
        raise AssetRejected(name, "the file is empty")
    if size > settings.LOUPE_MAX_UPLOAD_BYTES:
        raise AssetTooLarge(name, f"{size:,} bytes is over the limit of {settings.LOUPE_MAX_UPLOAD_BYTES:,}")
    info = _read_header(path, name)
    _decode_fully(path, name)
    return info
