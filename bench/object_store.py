"""Object store against local files, side by side in one run (LOUPE_STORAGE_URL, webapp/core/filestore.py).

    python bench/object_store.py [--part infer|upload|both] [--n 64] [--unique 16] [--width 7000 --height 10000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loupe python bench/object_store.py

The S3 server is moto's server mode in a process of its own on this machine (an emulator of the S3 API,
standing in for MinIO or AWS S3: its latency is a loopback's, its per-request cost Python's).

- infer: ``bench/loop_infer.py``'s end-to-end measurement (items enqueued as ``loupe.infer.predict_items``
  messages to a real Celery worker; timed until every prediction row is written) with the working copies
  read from local files, then from the object store through the worker's local cache (warm: one full pass
  first, as a worker that has seen the scope's items), then from local files again; the ratio is the
  store's rate over the better local one (target >= 0.8), each also against the bare predictor.
- upload: one ``--width`` x ``--height`` page (a JPEG) ingested and its working copy and tile pyramid built
  (``asset_ingest`` + ``asset_build_derivatives``, as the upload and the cpu worker do), into local files
  and into the object store, each in a fresh process (its peak RSS printed), alternately, twice each; the
  ratio is the store's best time over the local best (target <= 2).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loop_env import (catheter_scope_with_items, infer_and_wait, prepare_environment,  # noqa: E402
                       start_s3_server, start_worker, stop)


def _copy_media_to_store(media: Path, url: str) -> int:
    from django.test import override_settings

    from webapp.core import filestore

    files = [p for p in media.rglob("*") if p.is_file() and p.relative_to(media).parts[0] in ("assets", "derived")]
    with override_settings(LOUPE_STORAGE_URL=url):
        for path in files:
            filestore.save_bytes(path.relative_to(media).as_posix(), path.read_bytes())
    return len(files)


def _e2e(work: Path, name: str, ids: list[int], warm: int, chunk: int, passes: int, **env) -> float:
    """Items/s of one worker over ``ids`` (the last of ``passes`` passes; the earlier ones warm its cache)."""
    from webapp.config.celery import app
    from webapp.labeling.models import Prediction

    proc = start_worker(work, "infer", name, OMP_NUM_THREADS=str(os.cpu_count() or 1), **env)
    try:
        Prediction.objects.filter(item_id__in=[warm, *ids]).delete()
        app.send_task("loupe.infer.predict_items", args=[[warm], False])     # loads the champion once
        while not Prediction.objects.filter(item_id=warm).exists():
            time.sleep(0.05)
        for _ in range(passes):
            Prediction.objects.filter(item_id__in=ids).delete()
            rate = len(ids) / infer_and_wait(ids, chunk=chunk)
    finally:
        stop([proc])
    return rate


def infer_part(a, work: Path, url: str) -> dict:
    from ml.common.device import default_size, pick_device
    from workers.adapters import get_adapter
    from workers.inference import batch_size as default_batch
    from workers.itemdata import load_items

    dev = pick_device()
    size = default_size(dev)
    ckpt, ids = catheter_scope_with_items("bench", a.n + 1, unique=a.unique, size=size)
    warm, ids = ids[0], ids[1:]
    copied = _copy_media_to_store(work / "media", url)
    predictor = get_adapter("catheter").load(ckpt, str(dev))
    bs = default_batch("catheter")
    images = [it.images[0] for it in load_items(ids, mode="RGB")]
    predictor.predict(images[:bs], batch_size=bs)

    def bare_rate() -> float:
        t = time.perf_counter()
        predictor.predict(images, batch_size=bs)
        return len(images) / (time.perf_counter() - t)

    bare = [bare_rate()]
    store_media = work / "store-worker" / "media"   # a private folder: nothing of the local media in it
    local1 = _e2e(work, "bench-local1", ids, warm, a.chunk, 1)
    store = _e2e(work, "bench-store", ids, warm, a.chunk, 2, LOUPE_STORAGE_URL=url, MEDIA_ROOT=str(store_media))
    local2 = _e2e(work, "bench-local2", ids, warm, a.chunk, 1)
    bare.append(bare_rate())
    cached = [p for p in (store_media / ".cache").rglob("*") if p.is_file()]
    local, best_bare = max(local1, local2), max(bare)
    print(f"infer, {len(ids)} items over {a.unique} distinct 512x512 shots ({copied} files copied to the store), "
          f"device {dev}, preset {size}:")
    print(f"  end to end, local files:           {local1:.2f} and {local2:.2f} items/s (before and after)")
    print(f"  end to end, object store (warm):   {store:.2f} items/s; worker cache {len(cached)} files, "
          f"{sum(p.stat().st_size for p in cached) / 1e6:.1f} MB")
    print(f"  bare predictor:                    {best_bare:.2f} items/s")
    print(f"  ratio store / local: {store / local:.2f} (target >= 0.8); vs bare: store {store / best_bare:.2f}, "
          f"local {local / best_bare:.2f}")
    return {"items": len(ids), "local_items_per_s": [round(local1, 2), round(local2, 2)],
            "store_items_per_s": round(store, 2), "bare_items_per_s": round(best_bare, 2),
            "ratio_store_vs_local": round(store / local, 3)}


def _make_page(path: Path, width: int, height: int) -> None:
    import pyvips

    noise = pyvips.Image.perlin(width, height, cell_size=128) * 90 + 150   # paper-like texture, then lines
    lines = (pyvips.Image.xyz(width, height)[1] % 48 < 6).ifthenelse(60, 0)
    page = (noise - lines).cast("uchar")
    page.bandjoin([page, page]).copy(interpretation="srgb").jpegsave(str(path), Q=90)


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, unlike getrusage's ru_maxrss, which a
    child started by fork and exec inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def upload_child(mode: str, page: str) -> None:
    """One ingest + derivatives in this fresh process; prints a JSON line with seconds and peak RSS."""
    prepare_environment(f"bench-upload-{mode}")
    import boto3  # noqa: F401 - loaded before the baseline, as in a web or worker process

    from webapp.assets.models import Asset
    from webapp.assets.services import asset_build_derivatives, asset_ingest
    from webapp.core import filestore

    before = _peak_rss_mb()   # Django, pyvips, boto3 loaded
    t = time.perf_counter()
    asset, _ = asset_ingest(data=Path(page), name="page.jpg")
    ingest = time.perf_counter() - t
    state = asset_build_derivatives(asset_id=asset.pk)
    total = time.perf_counter() - t
    asset = Asset.objects.get(pk=asset.pk)
    assert state == "ready" and filestore.exists(asset.dzi), (state, asset.derivatives_error)
    tiles = len(filestore._list(asset.dzi.rsplit("/", 1)[0] + "/")) if filestore.is_remote() else \
        sum(1 for p in filestore.local_path(asset.dzi).parent.rglob("*") if p.is_file())
    print(json.dumps({"mode": mode, "seconds": round(total, 2), "ingest_seconds": round(ingest, 2), "files": tiles,
                      "rss_before_mb": round(before, 1),
                      "peak_rss_mb": round(_peak_rss_mb(), 1)}))


def upload_part(a, work: Path, url: str) -> dict:
    page = work / "page.jpg"
    _make_page(page, a.width, a.height)
    runs = {"local": [], "store": []}
    for mode in ("local", "store", "local", "store"):
        env = dict(os.environ, **({"LOUPE_STORAGE_URL": url} if mode == "store" else {}))
        env.pop("MEDIA_ROOT", None)
        env.pop("SQLITE_PATH", None)
        out = subprocess.run([sys.executable, __file__, "--upload-child", mode, str(page)], env=env,
                             capture_output=True, text=True, check=False)
        if out.returncode:
            raise RuntimeError(out.stderr[-3000:])
        runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = {m: min(r["seconds"] for r in rs) for m, rs in runs.items()}
    print(f"upload of a {a.width}x{a.height} page ({page.stat().st_size / 1e6:.1f} MB JPEG, "
          f"{a.width * a.height * 3 / 1e6:.0f} MB decoded) with its working copy and pyramid:")
    for mode, rs in runs.items():
        print(f"  {mode:5s}: " + ", ".join(
            f"{r['seconds']:.1f} s (ingest {r['ingest_seconds']:.1f} s, {r['files']} files, peak RSS "
            f"{r['peak_rss_mb']:.0f} MB, {r['rss_before_mb']:.0f} MB before)" for r in rs))
    print(f"  ratio store / local: {best['store'] / best['local']:.2f} (target <= 2)")
    return {"runs": runs, "ratio_store_vs_local": round(best["store"] / best["local"], 3)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("infer", "upload", "both"), default="both")
    ap.add_argument("--n", type=int, default=64, help="items of the inference part")
    ap.add_argument("--unique", type=int, default=16, help="distinct images shared by those items")
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--width", type=int, default=7000)
    ap.add_argument("--height", type=int, default=10000)
    ap.add_argument("--upload-child", nargs=2, metavar=("MODE", "PAGE"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.upload_child:
        upload_child(*a.upload_child)
        return 0
    work = prepare_environment("bench-store")
    s3, url = start_s3_server(work)
    load = os.getloadavg()
    print(f"load average at start {load[0]:.1f}, {os.cpu_count()} cores, work dir {work}", file=sys.stderr)
    try:
        result = {}
        if a.part in ("infer", "both"):
            result["infer"] = infer_part(a, work, url)
        if a.part in ("upload", "both"):
            result["upload"] = upload_part(a, work, url)
    finally:
        stop([s3])
    from django.conf import settings

    result["database"] = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    result["load_average"] = [round(x, 1) for x in (load[0], os.getloadavg()[0])]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
