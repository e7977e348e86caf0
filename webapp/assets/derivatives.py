"""Image processing for derivatives (libvips): the working copy and the deep-zoom tile pyramid.

Both are what a browser shows, so both are 8-bit sRGB (or 8-bit grey), EXIF orientation applied,
16-bit data scaled (not clipped), CMYK converted through a colour profile, alpha flattened onto white.
No database here: services.asset_build_derivatives records the results.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyvips

WORKING_STEM = "working"  # working.jpg, or working.png for greyscale line art
DZI_BASENAME = "tiles"  # dzsave writes tiles.dzi and tiles_files/<level>/<col>_<row>.jpeg
TILE_SUFFIX = ".jpeg"
TILE_SIZE = 254  # + 1 px overlap on each side = 256, the usual deep-zoom tile
_JPEG = {"Q": 85, "optimize_coding": True, "keep": "none"}


@dataclass(frozen=True)
class Derived:
    working_name: str
    working_width: int
    working_height: int


def _is_grey(image: pyvips.Image) -> bool:
    return image.bands - (1 if image.hasalpha() else 0) == 1


def to_display(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB or grey, no alpha, from whatever the loader produced (oriented already)."""
    if image.interpretation == "cmyk":
        # A CMYK file without its own profile is read with libvips' built-in CMYK profile.
        image = image.icc_transform("srgb", input_profile="cmyk", embedded=True, depth=8)
    grey = _is_grey(image)
    try:
        image = image.colourspace("b-w" if grey else "srgb")  # also scales 16-bit to 8-bit
    except pyvips.Error:
        pass  # an unusual interpretation (e.g. multiband): the checks below still make it displayable
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.format != "uchar":
        image = image.scale()  # linear min..max -> 0..255 for formats colourspace left alone
    if image.bands > 3:
        image = image.extract_band(0, n=3)
    return image


def _encode_working(image: pyvips.Image) -> tuple[str, bytes]:
    """JPEG, except for greyscale images that PNG stores smaller (line art: pages, scores).

    Measured on a synthetic 1600 px text page: PNG 121 KiB lossless vs JPEG Q85 383 KiB with ringing
    around the strokes; on grey photo-like content JPEG is ~4x smaller. So grey images try both.
    """
    jpeg = image.jpegsave_buffer(**_JPEG)
    if _is_grey(image):
        png = image.pngsave_buffer(compression=6, keep="none")
        if len(png) <= len(jpeg):
            return "png", png
    return "jpg", jpeg


def build_working_copy(source: Path, target_dir: Path, *, long_side: int) -> Derived:
    # thumbnail() shrinks while decoding (JPEG shrink-on-load) and applies the EXIF orientation.
    image = pyvips.Image.thumbnail(str(source), long_side, height=long_side, size="down")
    image = to_display(image).copy_memory()  # encoded up to twice: decode once
    extension, data = _encode_working(image)
    name = f"{WORKING_STEM}.{extension}"
    (target_dir / name).write_bytes(data)
    return Derived(working_name=name, working_width=image.width, working_height=image.height)


def build_tiles(source: Path, target_dir: Path) -> None:
    image = to_display(pyvips.Image.new_from_file(str(source)).autorot())
    image.dzsave(str(target_dir / DZI_BASENAME), suffix=f"{TILE_SUFFIX}[Q=85]", tile_size=TILE_SIZE, overlap=1,
                 depth="onepixel", layout="dz")
