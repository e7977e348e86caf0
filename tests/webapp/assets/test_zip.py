"""assets_ingest_zip: good members are imported, each bad one is reported with its reason."""
from __future__ import annotations

import io
import zipfile

import pytest

from webapp.assets.models import Asset
from webapp.assets.services import assets_ingest_upload, assets_ingest_zip
from webapp.assets.validation import AssetRejected

pytestmark = pytest.mark.django_db


def by_name(report):
    return {r.name: r for r in report.results}


def test_one_bad_member_does_not_stop_the_good_ones(images):
    data = images.zip({"a.png": images.image(seed=1), "notes.txt": b"just text\n" * 20,
                       "dir/b.jpg": images.image("JPEG", seed=2), "__MACOSX/._a.png": b"\0\5junk", "dir/": b""})
    results = by_name(assets_ingest_zip(data=data, name="batch.zip"))
    assert set(results) == {"a.png", "notes.txt", "dir/b.jpg"}, "folders and macOS junk are skipped"
    assert results["a.png"].status == results["dir/b.jpg"].status == "created"
    assert results["notes.txt"].status == "refused" and "text" in results["notes.txt"].reason
    assert results["a.png"].archive == "batch.zip"
    assert Asset.objects.count() == 2
    assert Asset.objects.get(pk=results["dir/b.jpg"].asset.pk).original_name == "b.jpg"


def test_duplicates_inside_and_across_archives(images):
    png = images.image(seed=4)
    first = by_name(assets_ingest_zip(data=images.zip({"x.png": png, "y.png": png}), name="one.zip"))
    assert (first["x.png"].status, first["y.png"].status) == ("created", "duplicate")
    assert first["x.png"].asset.pk == first["y.png"].asset.pk


def test_path_traversal_members_are_refused(images):
    data = images.zip({"../../etc/evil.png": images.image(seed=6), "/abs.png": images.image(seed=7),
                       "ok.png": images.image(seed=8)})
    results = by_name(assets_ingest_zip(data=data, name="crafted.zip"))
    assert results["../../etc/evil.png"].status == "refused" and "unsafe path" in results["../../etc/evil.png"].reason
    assert results["/abs.png"].status == "refused"
    assert results["ok.png"].status == "created"
    assert Asset.objects.count() == 1


def test_nested_zip_and_bomb_members_are_refused(images, settings):
    settings.LOUPE_MAX_UPLOAD_BYTES = 4 * 1024 * 1024
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("inner.zip", images.zip({"a.png": images.image(seed=9)}))
        z.writestr("zeros.png", b"\0" * (2 * 1024 * 1024))  # ~1000:1
        z.writestr("huge.tif", b"\0" * (5 * 1024 * 1024))  # over the byte limit once unpacked
    results = by_name(assets_ingest_zip(data=out.getvalue(), name="bomb.zip"))
    assert "nested zip" in results["inner.zip"].reason
    assert "zip bomb" in results["zeros.png"].reason
    assert "over the limit" in results["huge.tif"].reason
    assert all(r.status == "refused" for r in results.values())


def test_member_count_and_expanded_size_limits(images, settings):
    settings.LOUPE_MAX_ZIP_MEMBERS = 2
    data = images.zip({f"{i}.png": images.image(seed=20 + i) for i in range(4)})
    with pytest.raises(AssetRejected, match="many.zip: the archive holds 4 files; at most 2"):
        assets_ingest_zip(data=data, name="many.zip")
    settings.LOUPE_MAX_ZIP_MEMBERS = 100
    settings.LOUPE_MAX_ZIP_EXPANDED_BYTES = len(images.image(seed=30)) + 10
    with pytest.raises(AssetRejected, match="big.zip: the archive unpacks to"):
        assets_ingest_zip(data=images.zip({"p.png": images.image(seed=30), "q.png": images.image(seed=31)}),
                          name="big.zip")


def test_a_broken_archive_is_refused_as_a_whole():
    with pytest.raises(AssetRejected, match="broken.zip: not a readable zip archive"):
        assets_ingest_zip(data=b"PK\x03\x04 this is not really a zip", name="broken.zip")


def test_upload_dispatch_recognises_zips_by_content(images):
    report = assets_ingest_upload(data=images.zip({"z.png": images.image(seed=40)}), name="no-extension")
    assert [(r.name, r.status) for r in report.results] == [("z.png", "created")]
    report = assets_ingest_upload(data=images.image(seed=41), name="plain.png")
    assert [(r.name, r.status) for r in report.results] == [("plain.png", "created")]


def test_many_small_zero_members_are_refused_without_unpacking(settings, tmp_path):
    """2,000 zero-filled 1 MiB members (~2 MB of zip): refused from the directory alone, nothing spooled."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n in range(2000):
            z.writestr(f"z{n}.png", b"\0" * (1024 * 1024))
    assert len(out.getvalue()) < 4 * 1024 * 1024
    with pytest.raises(AssetRejected, match="compressed .*:1 overall, a possible zip bomb"):
        assets_ingest_zip(data=out.getvalue(), name="zeros.zip")
    settings.LOUPE_MAX_ZIP_EXPANDED_BYTES = 10 * 1024 * 1024 * 1024
    small = io.BytesIO()
    with zipfile.ZipFile(small, "w", zipfile.ZIP_DEFLATED) as z:
        for n in range(3):
            z.writestr(f"z{n}.png", b"\0" * (512 * 1024))
    report = assets_ingest_zip(data=small.getvalue(), name="few.zip")
    assert [r.status for r in report.results] == ["refused"] * 3
    assert all("zip bomb" in r.reason for r in report.results)
