"""Fixtures of the loop tests: tiny models, real images from the catheter generator, a real worker.

Everything is real: images go through the asset pipeline (working copies), items and revisions through
the labeling services, models through the ml package (its ``tiny`` preset), tasks through the broker.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SIDE = 128   # generated photos of the tests (the tiny preset works at 64 px)


@pytest.fixture(autouse=True)
def loop_settings(settings, tmp_path):
    settings.LOUPE_MODEL_ROOT = str(tmp_path / "models")
    settings.LOUPE_MODEL_SIZE = "tiny"
    settings.LOUPE_BOOTSTRAP_SECONDS = 0   # tiny preset: one epoch (a test that needs a long run sets a budget)
    settings.LOUPE_FINETUNE_STEPS = 6
    settings.LOUPE_TRAIN_LOCK_TTL = 4
    # The in-process predictor cache is keyed by version id, and a fresh SQLite test database hands out
    # the same ids again: a predictor cached by an earlier test must not answer for this one's version.
    from workers.models import forget

    forget()
    yield settings
    forget()


def _png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def catheter_series_items(db):
    """make(project, indices, seed) -> [(item, truth)]: series of 2 generated shots with their ground truth;
    working copies are built inline (as the derivatives task would)."""
    from webapp.assets.services import asset_build_derivatives, asset_ingest
    from webapp.labeling.services import item_create
    from workers.demo_sources import catheter_series

    def make(project, indices, seed: int = 7, shots: int = 2):
        out = []
        for i in indices:
            series, truth = catheter_series(i, seed, size=SIDE, shots=shots)
            assets = [asset_ingest(data=_png(s.image), name=f"b{seed}-{i}-{k}.png")[0] for k, s in enumerate(series)]
            for a in assets:
                asset_build_derivatives(asset_id=a.pk)
            item = item_create(project=project, asset_ids=[a.pk for a in assets], external_id=f"b{seed}-{i}",
                               meta={"setup": series[0].setup})
            out.append((item, truth))
        return out

    return make


@pytest.fixture
def generated_items(db):
    """make(project, indices, seed) -> [(item, truth)] for any kind with a generator (catheter, articles)."""
    from webapp.assets.services import asset_build_derivatives, asset_ingest
    from webapp.labeling.services import item_create
    from workers.demo_sources import articles_page, catheter_series

    def make(project, indices, seed: int = 7):
        out = []
        for i in indices:
            if project.kind == "catheter":
                series, truth = catheter_series(i, seed, size=SIDE, shots=2)
                images, meta = [s.image for s in series], {"setup": series[0].setup}
            else:
                image, truth = articles_page(i, seed, width=320)
                images, meta = [image], {"publisher": "daily-courier"}
            assets = [asset_ingest(data=_png(im), name=f"{project.kind}-{seed}-{i}-{k}.png")[0]
                      for k, im in enumerate(images)]
            for a in assets:
                asset_build_derivatives(asset_id=a.pk)
            item = item_create(project=project, asset_ids=[a.pk for a in assets], external_id=f"{seed}-{i}", meta=meta)
            out.append((item, truth))
        return out

    return make


@pytest.fixture
def accept(operator, reviewer):
    """accept(item, annotation): an operator's correction, accepted by a reviewer when the project needs it."""
    from webapp.labeling.models import ItemState, WorkItem
    from webapp.labeling.services import revision_submit, review_submit

    def run(item, annotation):
        # Preparing accepted work, not going through the queue: no lease (trusted seeding).
        revision_submit(item_id=item.pk, user=operator, annotation=annotation, base_revision=None, require_lease=False)
        if WorkItem.objects.get(pk=item.pk).state == ItemState.SUBMITTED:
            review_submit(item_id=item.pk, reviewer=reviewer, decision="accept")

    return run


@pytest.fixture
def bootstrapped_scope(make_project, catheter_series_items, accept):
    """make(**project_kwargs) -> (project, scope, first model): a catheter project with a scope of its own and
    three accepted golden items, whose bootstrap run (the training task, called in this process) registered
    and promoted a first model."""
    from webapp.labeling.models import WorkItem
    from webapp.mlops.selectors import champion_get
    from workers import training, triggers

    def make(**project_kwargs):
        scope = f"line:t-{uuid.uuid4().hex[:6]}"
        project = make_project("catheter", scope_key=scope, review_required=False, train_after_minutes=60,
                               **project_kwargs)
        golden = catheter_series_items(project, range(100, 103))
        WorkItem.objects.filter(pk__in=[i.pk for i, _ in golden]).update(split="golden")
        for item, truth in golden:
            accept(item, truth)
        decision = triggers.check_scope("catheter", scope)
        assert decision["decision"] == "bootstrap"
        assert training.run_training(decision["run"]).startswith("registered")
        return project, scope, champion_get(kind="catheter", scope_key=scope)

    return make


@pytest.fixture
def worker_env(subprocess_env, settings):
    env = dict(subprocess_env, LOUPE_MODEL_ROOT=settings.LOUPE_MODEL_ROOT, LOUPE_MODEL_SIZE="tiny",
               LOUPE_BOOTSTRAP_SECONDS=str(settings.LOUPE_BOOTSTRAP_SECONDS),
               LOUPE_FINETUNE_STEPS=str(settings.LOUPE_FINETUNE_STEPS),
               LOUPE_TRAIN_LOCK_TTL=str(settings.LOUPE_TRAIN_LOCK_TTL), OMP_NUM_THREADS="1")
    return env


@pytest.fixture
def start_worker(tmp_path, worker_env):
    """start(queues=..., extra_env=...) -> Popen of a real Celery worker on the real broker (solo pool)."""
    procs = []

    def start(queues: str = "infer,train,cpu", **extra_env):
        from webapp.config.celery import app

        name = f"loop-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        log = open(tmp_path / f"{name}.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "webapp.config.celery", "worker", "--pool",
                                 "solo", "-Q", queues, "-n", f"{name}@%h", "-l", "INFO"], cwd=ROOT,
                                env={**worker_env, **extra_env}, stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = tmp_path / f"{name}.log"
        procs.append(proc)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if any(name in n for reply in (app.control.ping(timeout=0.5) or []) for n in reply):
                return proc
            assert proc.poll() is None, proc.log_path.read_text()
        pytest.fail("worker did not come up:\n" + proc.log_path.read_text())

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_for(predicate, timeout: float, what: str, proc=None, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    tail = proc.log_path.read_text()[-4000:] if proc is not None else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")


@pytest.fixture
def omr_items(db):
    """make(project, indices, seed) -> [(item, truth, pair)]: the demo's chorale pairs (bundled engravings,
    simulated photos; ``ml.omr.demo.KIND_CYCLE`` says which index is which case) through the asset pipeline."""
    from webapp.assets.services import asset_build_derivatives, asset_ingest
    from webapp.labeling.services import item_create
    from workers.demo_sources import omr_pair

    def make(project, indices, seed: int = 7):
        out = []
        for i in indices:
            pair = omr_pair(i, seed)
            assets = [asset_ingest(data=_png(im), name=f"omr-{seed}-{i}-{role}.png")[0]
                      for role, im in (("original", pair.original.image), ("photo", pair.photo))]
            for a in assets:
                asset_build_derivatives(asset_id=a.pk)
            item = item_create(project=project, asset_ids=[a.pk for a in assets], roles=["original", "photo"],
                               external_id=f"omr-{seed}-{i}", meta=pair.meta())
            out.append((item, pair.truth(), pair))
        return out

    return make
