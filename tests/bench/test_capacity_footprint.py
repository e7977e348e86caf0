"""The footprint benchmark's measuring helpers: file categories, sizes, differences, and the per-table
snapshot on the test database (PostgreSQL where DATABASE_URL says so: row and index bytes too)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import capacity_footprint as footprint  # noqa: E402


@pytest.mark.parametrize("relative, category", [
    ("assets/ab/abcdef.png", "original"),
    ("derived/abcdef/working.jpg", "working_copy"),
    ("derived/abcdef/image.dzi", "pyramid"),
    ("derived/abcdef/image_files/12/0_0.jpeg", "pyramid"),
    ("predictions/7/v3/shot0_defect_map.png", "maps"),
    ("exports/x.json", "other"),
    ("tmp/upload-123", None),
])
def test_media_files_fall_into_the_storage_layout_categories(relative, category):
    assert footprint.media_category(relative) == category


def test_tree_bytes_counts_apparent_and_allocated_bytes_per_category(tmp_path):
    (tmp_path / "assets" / "ab").mkdir(parents=True)
    (tmp_path / "assets" / "ab" / "a.png").write_bytes(b"x" * 1000)
    (tmp_path / "derived" / "s" / "image_files" / "0").mkdir(parents=True)
    (tmp_path / "derived" / "s" / "image_files" / "0" / "0_0.jpeg").write_bytes(b"y" * 10)
    (tmp_path / "derived" / "s" / "image.dzi").write_bytes(b"z" * 5)
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp" / "upload-1").write_bytes(b"w" * 99)
    sizes = footprint.tree_bytes(tmp_path)
    assert sizes["original"]["bytes"] == 1000 and sizes["original"]["files"] == 1
    assert sizes["pyramid"] == {"files": 2, "bytes": 15, "blocks": sizes["pyramid"]["blocks"]}
    assert sizes["pyramid"]["blocks"] >= 15
    assert set(sizes) == {"original", "pyramid"}
    assert footprint.tree_bytes(tmp_path / "missing") == {}


def test_delta_keeps_what_changed_including_keys_new_on_either_side():
    before = {"t1": {"rows": 2, "row_bytes": 10}, "t2": {"rows": 1}, "gone": {"rows": 3}}
    after = {"t1": {"rows": 5, "row_bytes": 10}, "t2": {"rows": 1}, "new": {"rows": 4}}
    assert footprint.delta(after, before) == {"t1": {"rows": 3}, "gone": {"rows": -3}, "new": {"rows": 4}}
    assert footprint.per_item({"a": {"b": 9}, "c": 3}, 2) == {"a": {"b": 4.5}, "c": 1.5}


def test_index_entry_counts_each_key_column_and_an_expression_as_eight_bytes():
    sql = footprint.index_entry_sql(["item_id", ""])
    assert 'pg_column_size("item_id")' in sql and "+ 8 +" in sql
    assert footprint.index_entry_sql([]) == "(((8 + 0 + 7) / 8) * 8 + 4)"


@pytest.mark.django_db
def test_snapshot_sees_a_new_row_and_on_postgresql_its_bytes():
    from django.db import connection

    from webapp.labeling.services import project_create

    before = footprint.database_snapshot()
    project_create(name="footprint", kind="catheter")
    change = footprint.delta(footprint.database_snapshot(), before)
    assert change["labeling_project"]["rows"] == 1
    if connection.vendor == "postgresql":
        assert change["labeling_project"]["row_bytes"] > 24          # at least a tuple header and the name
        assert change["labeling_project"]["index_bytes"] >= 16 / footprint.BTREE_FILL   # primary key at least
