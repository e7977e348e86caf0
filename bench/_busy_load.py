"""The load a benchmark can run beside what it measures (``bench/ui_next_item.py --busy``): an infer worker
busy predicting catheter items, and a training run of the shipped catheter model's recipe."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _loop_env import ROOT, catheter_scope_with_items, start_worker

SCOPE = "busy"


def start_busy(work: Path, n_items: int = 3000) -> list[subprocess.Popen]:
    """An infer worker (real Celery, solo pool) predicting ``n_items`` catheter items with a freshly
    initialised champion of the CPU preset, and a training run of the shipped catheter model's recipe into the
    work folder (its steps are a bound no run here reaches; it is stopped)."""
    from django.conf import settings
    from webapp.config.celery import app

    _, ids = catheter_scope_with_items(SCOPE, n_items, unique=8)
    procs = [start_worker(work, "infer", "bench-busy-infer")]
    for k in range(0, len(ids), 16):
        app.send_task("loupe.infer.predict_items", args=[ids[k:k + 16], False],
                      priority=settings.LOUPE_PRIORITY_BACKFILL)
    log = open(work / "busy-train.log", "w")
    procs.append(subprocess.Popen([sys.executable, "-m", "workers.pretrained", "build", "catheter", "--steps",
                                   "1000000", "--minutes", "60", "--root", str(work / "pretrained")],
                                  cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
    return procs


def busy_report(work: Path) -> str:
    from webapp.labeling.models import Prediction

    predicted = Prediction.objects.filter(item__project__scope_key=SCOPE).count()
    tail = (work / "busy-train.log").read_text().strip().splitlines()[-1:] or ["(no output)"]
    return f"busy: {predicted} items predicted by the infer worker; training's last line: {tail[0][:160]}"
