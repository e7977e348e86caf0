"""A worker killed in the middle of a training run leaves the registry consistent: no version is
registered for the run, the run is marked failed once its scope lock expires, and a retry trains and
registers a complete model."""
import os
import signal
import time
import uuid

import pytest

from webapp.mlops.models import ModelVersion, TrainingRun
from webapp.mlops.selectors import champion_get
from webapp.mlops.services import training_run_request
from workers import triggers
from workers.models import artifact_path

from .conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_killing_the_worker_mid_run_leaves_no_half_registered_version(start_worker, make_project,
                                                                      catheter_series_items, settings):
    scope = f"line:k-{uuid.uuid4().hex[:6]}"
    project = make_project("catheter", scope_key=scope)
    catheter_series_items(project, range(2))
    worker = start_worker(LOUPE_BOOTSTRAP_SECONDS="600")     # a long run, to be killed while it trains
    run = training_run_request(kind="catheter", scope_key=scope, project_id=project.pk, trigger="bootstrap")
    wait_for(lambda: TrainingRun.objects.filter(pk=run.pk, state="running", step__gte=1).exists(), 240,
             "the run to train", worker)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)

    assert not ModelVersion.objects.filter(kind="catheter", scope_key=scope).exists()
    assert champion_get(kind="catheter", scope_key=scope) is None
    assert TrainingRun.objects.get(pk=run.pk).candidate_id is None
    time.sleep(settings.LOUPE_TRAIN_LOCK_TTL + 1)            # nobody extends the dead worker's lock
    assert triggers.sweep_dead_runs() == [run.pk]
    dead = TrainingRun.objects.get(pk=run.pk)
    assert dead.state == "failed" and "worker lost" in dead.error

    # The sweep queued a retry; a fresh worker runs it to a complete, registered, promoted model.
    retry = TrainingRun.objects.get(kind="catheter", scope_key=scope, state="queued")
    worker2 = start_worker()
    wait_for(lambda: TrainingRun.objects.filter(pk=retry.pk, state__in=["succeeded", "failed"]).exists(), 240,
             "the retry", worker2)
    retry.refresh_from_db()
    assert retry.state == "succeeded", retry.error
    versions = list(ModelVersion.objects.filter(kind="catheter", scope_key=scope))
    assert [v.training_run_id for v in versions] == [retry.pk]
    from ml.common.checkpoint import checkpoint_digest

    for v in versions:
        assert checkpoint_digest(artifact_path(v.artifact_uri)) == v.digest
    assert champion_get(kind="catheter", scope_key=scope).pk == versions[0].pk
