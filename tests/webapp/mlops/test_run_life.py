"""A training run's life as the workers drive it through the mlops services: queued -> running ->
succeeded | failed | cancelled, each step only from the state it expects (a run the sweep gave up stays so)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from webapp.mlops.models import TrainingRun
from webapp.mlops.selectors import (
    training_run_bootstrap_failed_since, training_run_cancel_requested, training_run_is_active, training_run_list_queued,
    training_run_list_running, training_run_watermark,
)
from webapp.mlops.services import (
    model_version_register, training_run_cancel, training_run_end, training_run_mark_lost, training_run_request,
    training_run_start, training_run_succeed,
)


def request(trigger="corrections"):
    return training_run_request(kind="catheter", scope_key="line:A", project_id=None, trigger=trigger)


def test_start_succeed_and_the_watermark(db):
    run = request()
    assert training_run_is_active(kind="catheter", scope_key="line:A")
    assert [r.pk for r in training_run_list_queued(created_before=timezone.now())] == [run.pk]
    assert training_run_start(run_id=run.pk) and not training_run_start(run_id=run.pk)   # only from queued
    assert [r.pk for r in training_run_list_running()] == [run.pk]
    version = model_version_register(kind="catheter", scope_key="line:A", artifact_uri="x")
    assert training_run_succeed(run_id=run.pk, candidate_id=version.pk, base_version_id=None,
                                params={"cutoff": "2026-01-01T00:00:00+00:00", "used_revisions": [3, 4]}, log="ok")
    run.refresh_from_db()
    assert (run.state, run.candidate_id, run.progress, run.log) == ("succeeded", version.pk, 1.0, "ok")
    assert not training_run_is_active(kind="catheter", scope_key="line:A")
    assert training_run_watermark(kind="catheter", scope_key="line:A") == {"cutoff": "2026-01-01T00:00:00+00:00",
                                                                           "used": [3, 4]}
    assert not training_run_succeed(run_id=run.pk, candidate_id=version.pk, base_version_id=None, params={})


def test_a_lost_run_stays_failed(db):
    run = request(trigger="bootstrap")
    assert not training_run_mark_lost(run_id=run.pk)          # queued: not running, nothing to lose
    training_run_start(run_id=run.pk)
    assert training_run_mark_lost(run_id=run.pk)
    assert not training_run_end(run_id=run.pk, state="cancelled")   # the sweep's verdict stands
    run.refresh_from_db()
    assert run.state == "failed" and "worker lost" in run.error
    assert training_run_bootstrap_failed_since(kind="catheter", scope_key="line:A",
                                               since=timezone.now() - timedelta(minutes=1))


def test_end_takes_failed_or_cancelled_only(admin_user):
    run = request()
    training_run_start(run_id=run.pk)
    with pytest.raises(ValueError, match="not 'succeeded'"):
        training_run_end(run_id=run.pk, state="succeeded")
    assert not training_run_cancel_requested(run_id=run.pk)
    training_run_cancel(run_id=run.pk, actor=admin_user)
    assert training_run_cancel_requested(run_id=run.pk)
    assert training_run_end(run_id=run.pk, state="cancelled", error="x" * 5000, log="stopped")
    run.refresh_from_db()
    assert (run.state, len(run.error), run.log) == (TrainingRun.State.CANCELLED, 4000, "stopped")
