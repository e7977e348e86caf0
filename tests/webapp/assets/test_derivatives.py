"""asset_build_derivatives: working copy (size, 8-bit, orientation, colour) and the DZI pyramid."""
from __future__ import annotations

import pytest
from PIL import Image

from webapp.assets.models import Asset
from webapp.assets.services import asset_build_derivatives, asset_ingest

pytestmark = pytest.mark.django_db


def build(data: bytes, name: str, settings, long_side: int = 64) -> Asset:
    settings.LOUPE_WORKING_COPY_LONG_SIDE = long_side
    asset, _ = asset_ingest(data=data, name=name)
    assert asset_build_derivatives(asset_id=asset.pk) == "ready"
    asset.refresh_from_db()
    return asset


def test_working_copy_and_tiles(images, settings, media_root):
    asset = build(images.image("PNG", (300, 200), seed=1), "wide.png", settings, long_side=120)
    assert (asset.derivatives, asset.working_width, asset.working_height) == ("ready", 120, 80)
    assert asset.working_copy == f"derived/{asset.sha256}/working.jpg"
    with Image.open(media_root / asset.working_copy) as working:
        assert (working.format, working.size, working.mode) == ("JPEG", (120, 80), "RGB")
    dzi = media_root / asset.dzi
    assert dzi.name == "tiles.dzi" and 'Width="300"' in dzi.read_text() and 'Height="200"' in dzi.read_text()
    top_level = max(int(p.name) for p in (dzi.parent / "tiles_files").iterdir() if p.name.isdigit())
    assert (dzi.parent / "tiles_files" / str(top_level) / "0_0.jpeg").is_file()
    assert (dzi.parent / "tiles_files" / "0" / "0_0.jpeg").is_file()


def test_small_images_are_not_enlarged(images, settings):
    asset = build(images.image("PNG", (40, 30), seed=2), "small.png", settings, long_side=1600)
    assert (asset.working_width, asset.working_height) == (40, 30)


def test_exif_rotated_jpeg_is_upright(images, settings, media_root):
    asset = build(images.exif_rotated((80, 40), orientation=6), "rotated.jpg", settings, long_side=64)
    assert (asset.working_width, asset.working_height) == (32, 64)
    assert 'Width="40"' in (media_root / asset.dzi).read_text()


def test_sixteen_bit_is_scaled_not_clipped(settings, media_root):
    import io

    ramp = Image.new("I;16", (64, 8))
    ramp.putdata([x * 1040 for _ in range(8) for x in range(64)])  # 0 .. 65520
    out = io.BytesIO()
    ramp.save(out, "TIFF")
    asset = build(out.getvalue(), "deep.tif", settings)
    with Image.open(media_root / asset.working_copy) as working:
        assert working.mode == "L"
        low, high = working.getextrema()
        assert high > 200 and low < 50, "the 16-bit range maps onto 0..255, not clipped at 255"


def test_cmyk_becomes_srgb(settings, media_root):
    import io

    out = io.BytesIO()
    Image.new("RGB", (60, 40), (255, 0, 0)).convert("CMYK").save(out, "JPEG", quality=95)
    asset = build(out.getvalue(), "print.jpg", settings)
    with Image.open(media_root / asset.working_copy) as working:
        r, g, b = working.convert("RGB").getpixel((30, 20))
        assert working.mode == "RGB" and r > 150 and g < 100 and b < 100, (r, g, b)


def test_idempotent_and_failure_recorded(images, settings, media_root):
    asset = build(images.image("PNG", (50, 50), seed=4), "again.png", settings)
    stamp = (media_root / asset.working_copy).stat().st_mtime_ns
    assert asset_build_derivatives(asset_id=asset.pk) == "ready"
    assert (media_root / asset.working_copy).stat().st_mtime_ns == stamp, "a ready asset is not rebuilt"
    assert asset_build_derivatives(asset_id=asset.pk, force=True) == "ready"
    (media_root / asset.original).write_bytes(b"gone bad")
    assert asset_build_derivatives(asset_id=asset.pk, force=True) == "failed"
    asset.refresh_from_db()
    assert asset.derivatives == "failed" and asset.derivatives_error
    assert asset_build_derivatives(asset_id=10**9) == "missing"


def test_sixteen_bit_rgb_tiff(settings, media_root):
    import pyvips  # Pillow cannot write 48-bit RGB TIFFs

    deep = (pyvips.Image.black(40, 30, bands=3) + [60000, 1000, 30000]).cast("ushort").copy(interpretation="rgb16")
    asset = build(deep.tiffsave_buffer(), "rgb48.tif", settings)
    assert (asset.format, asset.width, asset.height) == ("TIFF", 40, 30)
    with Image.open(media_root / asset.working_copy) as working:
        r, g, b = working.getpixel((20, 15))
        assert working.mode == "RGB" and r > 220 and g < 20 and 100 < b < 140, (r, g, b)


def test_greyscale_line_art_working_copy_is_png(settings, media_root):
    import io

    from PIL import ImageDraw

    page = Image.new("L", (400, 300), 255)
    draw = ImageDraw.Draw(page)
    for y in range(20, 280, 16):
        draw.rectangle([20, y, 380, y + 6], fill=0)
    out = io.BytesIO()
    page.save(out, "PNG")
    asset = build(out.getvalue(), "score.png", settings, long_side=200)
    assert asset.working_copy.endswith("/working.png")
    with Image.open(media_root / asset.working_copy) as working:
        assert (working.format, working.mode, working.size) == ("PNG", "L", (200, 150))


def test_alpha_is_flattened_onto_white(settings, media_root):
    import io

    out = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(out, "PNG")
    asset = build(out.getvalue(), "transparent.png", settings)
    with Image.open(media_root / asset.working_copy) as working:
        assert working.mode in ("RGB", "L") and working.convert("L").getpixel((20, 20)) > 250
