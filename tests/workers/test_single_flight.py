"""At most one training run per scope: simultaneous trigger checks start one run; a held scope lock or
an active run makes every check wait; a running run whose worker died is failed by the sweep and retried."""
import threading
import uuid

import pytest
from django.db import connection

from webapp.mlops.models import TrainingRun
from workers import triggers
from workers.locks import ScopeLock

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scope_with_champion(make_project, make_item, admin_user):
    from webapp.mlops.services import champion_promote, model_version_register

    scope = f"line:s-{uuid.uuid4().hex[:6]}"
    project = make_project("catheter", scope_key=scope, train_after_corrections=1, train_after_minutes=60,
                           review_required=False)
    version = model_version_register(kind="catheter", scope_key=scope, artifact_uri="unused")
    champion_promote(version_id=version.pk, actor=admin_user, reason="test")
    return project, scope


def _accept_one(project, make_item, operator):
    from webapp.labeling.services import revision_submit

    item = make_item(project)
    revision_submit(item_id=item.pk, user=operator, annotation={"verdict": "ok", "shots": [{"defects": []}]},
                    base_revision=None, require_lease=False)


def test_simultaneous_triggers_start_one_run(scope_with_champion, make_item, operator):
    project, scope = scope_with_champion
    _accept_one(project, make_item, operator)
    barrier, results = threading.Barrier(8), []

    def check():
        barrier.wait()
        try:
            results.append(triggers.check_scope("catheter", scope, project_id=project.pk)["decision"])
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count("started") == 1 and set(results) <= {"started", "busy"}
    assert TrainingRun.objects.filter(kind="catheter", scope_key=scope).count() == 1


def test_the_database_refuses_a_second_active_run_even_without_the_lock(scope_with_champion, make_item, operator):
    project, scope = scope_with_champion
    _accept_one(project, make_item, operator)
    first = triggers._request("catheter", scope, project.pk, "corrections", {})
    assert first is not None
    assert triggers._request("catheter", scope, project.pk, "corrections", {}) is None
    assert TrainingRun.objects.filter(kind="catheter", scope_key=scope).count() == 1


def test_a_held_scope_lock_makes_checks_wait(scope_with_champion, make_item, operator):
    project, scope = scope_with_champion
    _accept_one(project, make_item, operator)
    lock = ScopeLock("catheter", scope)
    assert lock.acquire("someone")
    try:
        assert triggers.check_scope("catheter", scope)["decision"] == "busy"
        assert not lock.acquire("another")
    finally:
        assert lock.release("someone")
    assert triggers.check_scope("catheter", scope)["decision"] == "started"


def test_sweep_fails_a_running_run_without_its_lock_and_retries_it(scope_with_champion, make_item, operator):
    project, scope = scope_with_champion
    _accept_one(project, make_item, operator)
    run_id = triggers._request("catheter", scope, project.pk, "corrections", {})
    lock = ScopeLock("catheter", scope, ttl=60)
    assert lock.acquire(str(run_id))
    TrainingRun.objects.filter(pk=run_id).update(state="running")
    assert triggers.sweep_dead_runs() == []          # its lock is alive: the run is left alone
    lock.release(str(run_id))                        # as if the worker died and the lock ran out
    assert triggers.sweep_dead_runs() == [run_id]
    run = TrainingRun.objects.get(pk=run_id)
    assert run.state == "failed" and "worker lost" in run.error
    retry = TrainingRun.objects.get(kind="catheter", scope_key=scope, state="queued")
    assert retry.params["retry_of"] == run_id and retry.params["retries"] == 1


def test_a_correction_submitted_before_a_run_and_accepted_after_it_still_counts(make_project, make_item, operator,
                                                                                reviewer):
    from django.utils import timezone

    from webapp.labeling.services import review_submit, revision_submit
    from workers import trainset

    scope = f"line:c-{uuid.uuid4().hex[:6]}"
    project = make_project("catheter", scope_key=scope, review_required=True)
    early, used = make_item(project), make_item(project)
    ok = {"verdict": "ok", "shots": [{"defects": []}]}
    revision_submit(item_id=early.pk, user=operator, annotation=ok, base_revision=None,   # waits for review
                    require_lease=False)
    used_rev = revision_submit(item_id=used.pk, user=operator, annotation=ok, base_revision=None, require_lease=False)
    review_submit(item_id=used.pk, reviewer=reviewer, decision="accept")
    TrainingRun.objects.create(kind="catheter", scope_key=scope, state="succeeded",
                               params={"cutoff": timezone.now().isoformat(), "used_revisions": [used_rev.pk]})
    review_submit(item_id=early.pk, reviewer=reviewer, decision="accept")
    assert [c.item_id for c in trainset.new_corrections("catheter", scope)] == [early.pk]
