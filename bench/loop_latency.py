"""Correction-to-candidate latency with the demo's defaults: from the N-th accepted correction to a
registered candidate with golden-set metrics, per kind, on real workers (train + infer/cpu, as ``make demo``).

    python bench/loop_latency.py [--kinds catheter articles] [--items 8]

Per kind it seeds a project like the demo (``--items`` generated items, every 4th one a golden item accepted
with the generator's ground truth; N = 4 corrections, review required), lets the scope bootstrap its first
model (not timed), then submits and accepts N corrections (the generator's ground truth, as an operator
would after correcting) and times the N-th acceptance -> the candidate's registration. Target: <= 5 min.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loop_env import prepare_environment, start_worker, stop  # noqa: E402

N_CORRECTIONS = 4   # the demo projects' train_after_corrections (workers/demo.py)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinds", nargs="+", default=["catheter", "articles"])
    ap.add_argument("--items", type=int, default=8)
    a = ap.parse_args()
    work = prepare_environment("bench-latency")

    from PIL import Image

    from django.conf import settings
    from webapp.accounts.services import project_member_add, user_create
    from webapp.assets.services import asset_ingest
    from webapp.labeling.services import item_create, project_create, review_submit, revision_submit
    from webapp.mlops.models import ModelVersion
    from workers.demo import GOLDEN_EVERY
    from workers.demo_sources import generate_items, ground_truth

    operator = user_create(username="op", password="bench-pass-123", role="operator")
    reviewer = user_create(username="rev", password="bench-pass-123", role="reviewer")

    def accept(item, truth):
        revision_submit(item_id=item.pk, user=operator, annotation=truth, base_revision=None, require_lease=False)
        review_submit(item_id=item.pk, reviewer=reviewer, decision="accept")

    procs = [start_worker(work, "infer,cpu", "bench-infer-cpu"), start_worker(work, "train", "bench-train")]
    results = {}
    try:
        for kind in a.kinds:
            scope = {"catheter": "line:A", "articles": "publisher:daily-courier"}[kind]
            project = project_create(name=f"bench {kind}", kind=kind, scope_key=scope, review_required=True,
                                     train_after_corrections=N_CORRECTIONS, train_after_minutes=5, golden_share=0)
            project_member_add(project_id=project.pk, user=operator)
            project_member_add(project_id=project.pk, user=reviewer)
            pool = []
            for index, (ext, files, roles, meta) in enumerate(generate_items(kind, a.items, 2018)):
                assets = [asset_ingest(data=data, name=name)[0] for name, data in files]
                truth = ground_truth(kind, index, 2018)
                golden = index % GOLDEN_EVERY == 0
                item = item_create(project=project, asset_ids=[x.pk for x in assets], roles=roles, external_id=ext,
                                   meta=meta, split="golden" if golden else "pool")
                (accept(item, truth) if golden else pool.append((item, truth)))
            t = time.perf_counter()
            while not ModelVersion.objects.filter(kind=kind, scope_key=scope).exists():
                time.sleep(0.5)
            boot = time.perf_counter() - t
            print(f"{kind}: first model (bootstrap) after {boot:.0f}s", file=sys.stderr)
            for item, truth in pool[:N_CORRECTIONS]:
                accept(item, truth)
            t = time.perf_counter()
            while not ModelVersion.objects.filter(kind=kind, scope_key=scope, number=2).exists():
                time.sleep(0.25)
            latency = time.perf_counter() - t
            v2 = ModelVersion.objects.get(kind=kind, scope_key=scope, number=2)
            results[kind] = {"latency_s": round(latency, 1), "bootstrap_s": round(boot, 1),
                             "golden_items": v2.metrics.get("golden", {}).get("items"),
                             "primary": v2.metrics.get("primary"),
                             "candidate": (v2.metrics.get("overall") or {}).get(v2.metrics.get("primary") or ""),
                             "champion": ((v2.metrics.get("champion") or {}).get("overall") or {}).get(
                                 v2.metrics.get("primary") or ""),
                             "promotable": v2.promotable, "blocked_reasons": v2.blocked_reasons}
            print(f"{kind}: N-th accepted correction -> registered candidate: {latency:.1f}s (target <= 300s); "
                  f"{results[kind]['primary']} candidate {results[kind]['candidate']} vs champion "
                  f"{results[kind]['champion']} on {results[kind]['golden_items']} golden items")
    finally:
        stop(procs)
    print(json.dumps({"finetune_steps": settings.LOUPE_FINETUNE_STEPS, "bootstrap_budget_s":
                      settings.LOUPE_BOOTSTRAP_SECONDS, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
