"""What one item costs to keep: bytes on disk by category and rows (and PostgreSQL bytes) per table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loupe .venv/bin/python bench/capacity_footprint.py [--items 4]

For each kind (catheter, articles, omr) it makes ``--items`` of the demo generator's items and takes each
through the real services, in this process, in the order production does: the upload (``asset_ingest`` of
every file, ``item_create``), the derivatives (working copy and DZI tile pyramid), the champion's proposal
(``workers.inference.predict``: the shipped model for catheter and articles, the model-free alignment for
OMR; the proposal's maps where the kind draws them), the operator's lease and draft, the submitted revision
(the generator's truth, from the proposal) and the reviewer's acceptance. Around each kind it measures:

- bytes under MEDIA_ROOT by category (original, working copy, pyramid, maps), apparent size (what an object
  store bills) and allocated blocks (what a file system uses), and the model artifacts under LOUPE_MODEL_ROOT
  (per model version, not per item);
- rows written per table (every model counted before and after);
- on PostgreSQL, per table: the bytes of the rows themselves (``pg_column_size`` of each row plus its line
  pointer), an estimate of their index entries (the key columns of each index, 8-byte aligned, at the
  B-tree's 90 % fill) and the change in ``pg_total_relation_size``. With a handful of items the last is an
  upper bound (each table and index grows by whole 8 KiB pages); the row and index bytes are what grows
  linearly with the item count.

Prints a table per kind and one JSON line at the end. Database, media and Redis keys are private to the run
(``bench/_loop_env.py``) and dropped at exit.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loop_env import drop_redis_keys, prepare_environment  # noqa: E402

KINDS = ("catheter", "articles", "omr")
CATEGORIES = ("original", "working_copy", "pyramid", "maps", "other")
SEED = 2018
BTREE_FILL = 0.9


def media_category(relative: str) -> str | None:
    """The category of a file under MEDIA_ROOT (``webapp/assets/storage.py``, ``webapp/labeling/maps.py``
    name the folders); None for spool files, which never stay."""
    parts = Path(relative).parts
    if not parts or parts[0] == "tmp":
        return None
    if parts[0] == "assets":
        return "original"
    if parts[0] == "derived":
        name = parts[-1]
        return "pyramid" if name.endswith(".dzi") or any(p.endswith("_files") for p in parts) else "working_copy"
    if parts[0] == "predictions":
        return "maps"
    return "other"


def tree_bytes(root: Path, categorize=media_category) -> dict[str, dict[str, int]]:
    """{category: {"files", "bytes" (apparent), "blocks" (allocated)}} of every file under ``root``."""
    out: dict[str, dict[str, int]] = {}
    if not root.exists():
        return out
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            category = categorize(str(path.relative_to(root)))
            if category is None:
                continue
            st = path.stat()
            row = out.setdefault(category, {"files": 0, "bytes": 0, "blocks": 0})
            row["files"] += 1
            row["bytes"] += st.st_size
            row["blocks"] += st.st_blocks * 512
    return out


def delta(after: dict, before: dict) -> dict:
    """Nested numeric difference ``after - before`` (keys of either side), dropping what did not change."""
    out = {}
    for key in set(after) | set(before):
        a, b = after.get(key), before.get(key)
        if isinstance(a, dict) or isinstance(b, dict):
            inner = delta(a or {}, b or {})
            if inner:
                out[key] = inner
        elif (a or 0) - (b or 0):
            out[key] = (a or 0) - (b or 0)
    return out


def per_item(values: dict, n: int) -> dict:
    return {k: per_item(v, n) if isinstance(v, dict) else round(v / n, 1) for k, v in values.items()}


def index_entry_sql(columns: list[str]) -> str:
    """SQL for one B-tree entry's bytes of a row: 8-byte tuple header plus the key columns, 8-byte aligned,
    plus its 4-byte line pointer (an expression key counts as 8 bytes)."""
    keys = " + ".join(f'coalesce(pg_column_size("{c}"), 0)' if c else "8" for c in columns) or "0"
    return f"(((8 + {keys} + 7) / 8) * 8 + 4)"


def _pg_indexes(cursor, table: str) -> list[list[str]]:
    cursor.execute(
        "SELECT array(SELECT coalesce(a.attname, '') FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
        "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) "
        "FROM pg_index i WHERE i.indrelid = %s::regclass", [table])
    return [list(row[0]) for row in cursor.fetchall()]


def database_snapshot() -> dict[str, dict[str, int]]:
    """Per table: rows, and on PostgreSQL row bytes, estimated index bytes and total relation bytes."""
    from django.apps import apps
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    out = {}
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed:
                continue
            table = model._meta.db_table
            if table in out:
                continue
            if not postgres:
                out[table] = {"rows": model._base_manager.count()}
                continue
            indexes = _pg_indexes(cursor, table)
            entries = " + ".join(index_entry_sql(cols) for cols in indexes) or "0"
            cursor.execute(f'SELECT count(*), coalesce(sum(pg_column_size(t.*) + 4), 0), '
                           f'coalesce(sum({entries}), 0), pg_total_relation_size(%s) FROM "{table}" t', [table])
            rows, row_bytes, index_bytes, total = cursor.fetchone()
            out[table] = {"rows": rows, "row_bytes": int(row_bytes), "index_bytes": int(index_bytes / BTREE_FILL),
                          "relation_bytes": total}
    return out


def _champion(kind: str, scope_key: str) -> int:
    """The shipped model of ``kind`` as the scope's champion (registered like a trained one); returns the
    bytes of its artifact. OMR proposes without one (its model-free alignment)."""
    from django.conf import settings

    from webapp.mlops.models import ChampionAlias
    from webapp.mlops.services import model_version_register
    from workers import pretrained

    if pretrained.manifest(kind) is None:
        return 0
    folder = Path(settings.LOUPE_MODEL_ROOT) / kind / "capacity" / "v1"
    pretrained.copy_into(kind, folder)
    version = model_version_register(kind=kind, scope_key=scope_key, artifact_uri=str(folder))
    ChampionAlias.objects.create(kind=kind, scope_key=scope_key, model_version=version)   # no re-score message
    return sum(p.stat().st_size for p in folder.iterdir())


def run_kind(kind: str, n: int, users: dict) -> dict:
    from django.conf import settings

    from webapp.accounts.services import project_member_add
    from webapp.assets.services import asset_build_derivatives, asset_ingest
    from webapp.labeling.models import Prediction
    from webapp.labeling.services import (
        draft_save, item_create, lease_take_next, project_create, review_submit, revision_submit,
    )
    from workers import pretrained
    from workers.demo_sources import generate_items, ground_truth
    from workers.inference import predict

    shipped = pretrained.manifest(kind)
    scope = shipped["scopes"][0] if shipped and shipped["scopes"][0] != "*" else ""
    project = project_create(name=f"capacity {kind}", kind=kind, scope_key=scope, golden_share=0.0)
    for role in ("operator", "reviewer"):
        project_member_add(project_id=project.pk, user=users[role], role=role)
    model_bytes = _champion(kind, scope)
    generated = list(generate_items(kind, n, SEED))      # outside the measurement: the customer's files
    truths = [ground_truth(kind, i, SEED) for i in range(n)]

    media, models = Path(settings.MEDIA_ROOT), Path(settings.LOUPE_MODEL_ROOT)
    disk_before, db_before = tree_bytes(media), database_snapshot()
    models_before = tree_bytes(models, lambda _: "model")
    timings = {"upload_derivatives_s": 0.0, "predict_s": 0.0, "label_review_s": 0.0}
    started = time.perf_counter()
    items = []
    for external_id, files, roles, meta in generated:
        assets = [asset_ingest(data=data, name=name, project_id=project.pk)[0] for name, data in files]
        for asset in assets:
            asset_build_derivatives(asset_id=asset.pk)
        items.append(item_create(project=project, asset_ids=[a.pk for a in assets], roles=roles,
                                 external_id=external_id, meta=meta))
    timings["upload_derivatives_s"] = time.perf_counter() - started
    started = time.perf_counter()
    stats = predict([it.pk for it in items], fill=False)
    timings["predict_s"] = time.perf_counter() - started
    started = time.perf_counter()
    by_id = {it.pk: i for i, it in enumerate(items)}
    for _ in items:
        lease = lease_take_next(project_id=project.pk, user=users["operator"])
        item_id = lease.item_id
        proposal = Prediction.objects.filter(item_id=item_id).order_by("-pk").first()
        from_id = proposal.pk if proposal else None
        answer = truths[by_id[item_id]]
        draft_save(item_id=item_id, user=users["operator"], annotation=answer, base_revision=None,
                   from_prediction_id=from_id)
        revision = revision_submit(item_id=item_id, user=users["operator"], annotation=answer, base_revision=None,
                                   from_prediction_id=from_id)
        review_submit(item_id=item_id, reviewer=users["reviewer"], decision="accept", revision=revision.number)
    timings["label_review_s"] = time.perf_counter() - started
    return {"kind": kind, "items": n, "predictions": stats, "model_artifact_bytes": model_bytes,
            "disk": delta(tree_bytes(media), disk_before),
            "model_files": delta(tree_bytes(models, lambda _: "model"), models_before),
            "tables": delta(database_snapshot(), db_before),
            "seconds": {k: round(v, 2) for k, v in timings.items()}}


def summarize(result: dict) -> dict:
    """Per-item figures of one kind's run: bytes per disk category, rows per table, database bytes."""
    n = result["items"]
    disk = {c: result["disk"].get(c, {}).get("bytes", 0) / n for c in CATEGORIES if c in result["disk"]}
    blocks = sum(v.get("blocks", 0) for v in result["disk"].values()) / n
    tables = result["tables"]
    rows = {t: v["rows"] / n for t, v in tables.items() if v.get("rows")}
    db = {key: sum(v.get(key, 0) for v in tables.values()) / n
          for key in ("row_bytes", "index_bytes", "relation_bytes")}
    return {"kind": result["kind"], "items": n, "disk_bytes": {k: round(v) for k, v in disk.items()},
            "disk_bytes_total": round(sum(disk.values())), "disk_blocks_total": round(blocks),
            "rows": {t: round(v, 2) for t, v in sorted(rows.items())}, "rows_total": round(sum(rows.values()), 2),
            "db_bytes": {k: round(v) for k, v in db.items()}, "model_artifact_bytes": result["model_artifact_bytes"],
            "seconds": result["seconds"], "predictions": result["predictions"]}


def print_summary(s: dict, tables: dict) -> None:
    print(f"\n== {s['kind']}: {s['items']} items, predictions {s['predictions']}, seconds {s['seconds']}")
    print("  disk per item (apparent bytes): " + ", ".join(f"{k} {v:,}" for k, v in s["disk_bytes"].items())
          + f"; total {s['disk_bytes_total']:,} (allocated {s['disk_blocks_total']:,})")
    print(f"  model artifact (per version): {s['model_artifact_bytes']:,} bytes")
    print(f"  {'table':40s} {'rows/item':>9s} {'row B/item':>10s} {'index B/item':>12s} {'relation B/item':>15s}")
    n = s["items"]
    for table, v in sorted(tables.items(), key=lambda kv: -kv[1].get("row_bytes", kv[1].get("rows", 0))):
        print(f"  {table:40s} {v.get('rows', 0) / n:9.2f} {v.get('row_bytes', 0) / n:10.0f} "
              f"{v.get('index_bytes', 0) / n:12.0f} {v.get('relation_bytes', 0) / n:15.0f}")
    db = s["db_bytes"]
    print(f"  database per item: rows {s['rows_total']}, row bytes {db['row_bytes']:,}, index bytes (estimate) "
          f"{db['index_bytes']:,}, relation growth {db['relation_bytes']:,} (page-granular upper bound)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=4, help="items per kind")
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    a = ap.parse_args()
    work = prepare_environment("capacity")
    from django.conf import settings
    from django.db import connection

    from webapp.accounts.services import user_create

    users = {role: user_create(username=f"capacity-{role}", password="capacity-pass-1", role=role)
             for role in ("operator", "reviewer")}
    print(f"database {connection.vendor} ({settings.DATABASES['default']['NAME']}), work dir {work}, "
          f"model size {os.environ.get('LOUPE_MODEL_SIZE') or 'by device'}", file=sys.stderr)
    summaries = []
    try:
        for kind in a.kinds:
            result = run_kind(kind, a.items, users)
            summary = summarize(result)
            print_summary(summary, result["tables"])
            summaries.append(summary)
    finally:
        drop_redis_keys(settings.REDIS_URL, settings.LOUPE_KEY_PREFIX)
    load = open("/proc/loadavg").read().split()[:3]
    print(f"\nload average at end: {load}")
    print(json.dumps({"database": connection.vendor, "load_average": load, "summaries": summaries}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
