"""A real Celery worker process on the real broker, against the test database."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from webapp.labeling.models import ItemState
from webapp.labeling.services import lease_take_next

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def celery_worker_process(tmp_path, subprocess_env):
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "webapp.config.celery", "worker", "--pool", "solo",
                             "-Q", "infer,train,cpu", "-n", f"test-{os.getpid()}@%h", "-l", "INFO"],
                            cwd=ROOT, env=subprocess_env, stdout=log, stderr=subprocess.STDOUT)
    from webapp.config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(f"test-{os.getpid()}@" in name for reply in (app.control.ping(timeout=0.5) or []) for name in reply):
            break
        assert proc.poll() is None, (tmp_path / "worker.log").read_text()
    else:
        proc.terminate()
        pytest.fail("worker did not come up:\n" + (tmp_path / "worker.log").read_text())
    yield proc
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def test_worker_runs_the_lease_sweep(celery_worker_process, make_project, make_item, operator, expire_lease):
    from webapp.config.celery import app

    project = make_project()
    item = make_item(project)
    lease = lease_take_next(project_id=project.pk, user=operator)
    expire_lease(lease)
    result = app.send_task("loupe.cpu.lease_expire_stale")
    assert result.get(timeout=60) == 1
    item.refresh_from_db()
    assert item.state == ItemState.NEW


def test_health_sees_the_worker(celery_worker_process, client):
    body = client.get("/health/").json()
    assert body["workers"]["ok"] and body["workers"]["count"] >= 1


def test_the_worker_sends_heartbeats_with_its_queues_and_device(celery_worker_process):
    """The worker's own heartbeat (workers/heartbeat.py): written when it is ready, marked stopped when it
    shuts down cleanly."""
    from webapp.mlops.models import WorkerHeartbeat

    name = f"test-{os.getpid()}@"
    deadline = time.monotonic() + 30
    while not (row := WorkerHeartbeat.objects.filter(name__startswith=name).first()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert row is not None, "no heartbeat within 30 s of the worker answering pings"
    assert row.queues == ["cpu", "infer", "train"] and row.device.split(":")[0] in ("cpu", "cuda", "mps")
    assert row.pid == celery_worker_process.pid and row.stopped_at is None
    celery_worker_process.terminate()
    celery_worker_process.wait(timeout=30)
    row.refresh_from_db()
    assert row.stopped_at is not None and row.last_seen <= row.stopped_at
