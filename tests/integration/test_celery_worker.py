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
