"""asset_ingest: what is accepted (by content, with the right size), what is refused and why."""
from __future__ import annotations

import pytest

from webapp.assets.models import Asset
from webapp.assets.services import asset_ingest
from webapp.assets.validation import AssetRejected, AssetTooLarge

pytestmark = pytest.mark.django_db


def refusal(data: bytes, name: str = "upload.png") -> str:
    with pytest.raises(AssetRejected) as caught:
        asset_ingest(data=data, name=name)
    message = caught.value.message
    assert message.startswith(f"{name}: "), message
    assert not Asset.objects.exists()
    return caught.value.reason


def test_png_is_stored_under_its_hash(images, media_root):
    asset, created = asset_ingest(data=images.image("PNG", (64, 48)), name="shot_01.png")
    assert created and (asset.format, asset.width, asset.height) == ("PNG", 64, 48)
    assert asset.original == f"assets/{asset.sha256[:2]}/{asset.sha256}.png"
    assert (media_root / asset.original).is_file()
    assert asset.original_name == "shot_01.png" and asset.derivatives == "pending"
    assert not any((media_root / "tmp").iterdir()), "the spooled upload is moved or removed"


def test_format_comes_from_content_not_extension(images):
    asset, _ = asset_ingest(data=images.image("JPEG"), name="actually-a-jpeg.png")
    assert asset.format == "JPEG" and asset.original.endswith(".jpg")


def test_duplicate_is_linked_not_stored_twice(images, media_root):
    data = images.image("PNG", seed=3)
    first, created = asset_ingest(data=data, name="a.png")
    again, created_again = asset_ingest(data=data, name="copy-of-a.png")
    assert created and not created_again and again.pk == first.pk
    assert Asset.objects.count() == 1
    assert len(list((media_root / "assets").rglob("*.png"))) == 1


def test_sixteen_bit_tiff_and_png(images):
    tif, _ = asset_ingest(data=images.image("TIFF", (50, 30), mode="I;16"), name="deep.tif")
    png, _ = asset_ingest(data=images.image("PNG", (20, 70), mode="I;16"), name="deep.png")
    assert (tif.format, tif.width, tif.height, tif.mode) == ("TIFF", 50, 30, "I;16")
    assert (png.format, png.width, png.height) == ("PNG", 20, 70)


def test_cmyk_jpeg(images):
    asset, _ = asset_ingest(data=images.image("JPEG", (40, 30), mode="CMYK"), name="print.jpg")
    assert (asset.mode, asset.width, asset.height) == ("CMYK", 40, 30)


def test_exif_orientation_is_applied_to_the_dimensions(images):
    asset, _ = asset_ingest(data=images.exif_rotated((80, 40), orientation=6), name="portrait.jpg")
    assert (asset.width, asset.height, asset.exif_orientation) == (40, 80, 6)
    upright, _ = asset_ingest(data=images.exif_rotated((80, 40), orientation=3), name="upside-down.jpg")
    assert (upright.width, upright.height, upright.exif_orientation) == (80, 40, 3)


def test_text_and_pdf_and_empty_are_refused():
    assert "text" in refusal(b"hello, I am not an image\n" * 10, "notes.png")
    assert "PDF" in refusal(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "scan.jpg")
    assert "empty" in refusal(b"", "empty.png")


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "WEBP"])
def test_other_image_formats_are_refused(images, fmt):
    reason = refusal(images.image(fmt), f"picture.{fmt.lower()}")
    assert "PNG, JPEG" in reason


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_truncated_images_are_refused(images, fmt):
    data = images.image(fmt, (120, 90), seed=5)
    assert "truncated" in refusal(data[: len(data) * 2 // 3], f"cut.{fmt.lower()}")


def test_pixel_bomb_refused_from_the_header(images):
    reason = refusal(images.header_only(20_000, 20_000), "bomb.png")  # 400 Mpx: Pillow's own bomb error
    assert "decompression bomb" in reason
    reason = refusal(images.header_only(13_000, 13_000), "big.png")  # 169 Mpx: over our limit only
    assert "169,000,000 pixels is over the limit" in reason


def test_broadsheet_sized_header_passes_the_pixel_check(images):
    # ~70 Mpx, a 600 dpi broadsheet: within the limit, so it gets as far as decoding (and has no pixels).
    reason = refusal(images.header_only(7_000, 10_000), "page.png")
    assert "truncated or corrupt" in reason


def test_pixel_limit_is_a_setting(images, settings):
    settings.LOUPE_MAX_IMAGE_PIXELS = 1000
    assert "over the limit of 1,000" in refusal(images.image("PNG", (40, 30)), "small.png")


def test_too_many_bytes(images, settings):
    settings.LOUPE_MAX_UPLOAD_BYTES = 100
    with pytest.raises(AssetTooLarge) as caught:
        asset_ingest(data=images.image("PNG", (64, 64)), name="heavy.png")
    assert caught.value.status_code == 413 and "over the limit of 100" in caught.value.message


def test_camera_multi_picture_jpeg_is_a_jpeg(images):
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(out, "MPO", save_all=True, append_images=[Image.new("RGB", (30, 20))])
    asset, _ = asset_ingest(data=out.getvalue(), name="camera.jpg")
    assert (asset.format, asset.width, asset.height) == ("JPEG", 30, 20) and asset.original.endswith(".jpg")
