"""The loop for OMR over a real Celery worker: accepted golden pairs bootstrap a detector, the worker aligns
the demo's chorale pairs and stores proposals (verdicts, metrics, symbols moved onto the photo), accepted
alignments start a detector fine-tune by themselves, and the candidate comes back gated per symbol class.
The test watches the database (the WebSocket side of the loop has its own test)."""
import time
import uuid

import pytest

from webapp.labeling.models import Prediction, WorkItem
from webapp.mlops.models import ModelVersion, TrainingRun
from webapp.mlops.selectors import champion_get
from webapp.mlops.services import champion_promote

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _until(check, timeout: float, what: str, worker):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        assert worker.poll() is None, worker.log_path.read_text()[-4000:]
        time.sleep(0.5)
    pytest.fail(f"no {what} within {timeout:.0f}s; worker log:\n" + worker.log_path.read_text()[-4000:])


def test_omr_alignments_to_detector_candidate_over_a_worker(start_worker, make_project, omr_items, accept,
                                                             admin_user):
    scope = f"publisher:w-{uuid.uuid4().hex[:6]}"
    project = make_project("omr", scope_key=scope, review_required=True, train_after_corrections=2,
                           train_after_minutes=60)
    golden = omr_items(project, [0, 1])           # ordinary photos (ml.omr.demo.KIND_CYCLE)
    pool = omr_items(project, [3, 2, 6])          # ordinary, curled, wrong page
    WorkItem.objects.filter(pk__in=[i.pk for i, _, _ in golden]).update(split="golden")
    worker = start_worker()

    for item, truth, _ in golden:   # the first accepted work of a scope without a model: it bootstraps
        accept(item, truth)
    v1 = _until(lambda: champion_get(kind="omr", scope_key=scope, fallback_to_global=False), 180,
                "bootstrapped champion", worker).pk
    pool_ids = [i.pk for i, _, _ in pool]
    _until(lambda: Prediction.objects.filter(item_id__in=pool_ids, model_version_id=v1).count() == 3, 120,
           "alignments of the pool", worker)
    by_item = {p.item_id: p for p in Prediction.objects.filter(model_version_id=v1)}
    (good, _, _), (curl, _, _), (wrong, _, _) = pool
    assert by_item[good.pk].scores["verdict"] == "accept" and by_item[good.pk].payload["status"] == "accepted"
    assert len(by_item[good.pk].scores["symbols"]) > 400 and len(by_item[good.pk].scores["matches"]) > 20
    assert by_item[curl.pk].scores["verdict"] == "review" and "page curl" in by_item[curl.pk].payload["reasons"]
    assert by_item[wrong.pk].payload["status"] == "rejected" and "wrong page" in by_item[wrong.pk].payload["reasons"]
    assert by_item[curl.pk].uncertainty > by_item[good.pk].uncertainty

    # two accepted alignments (an ordinary one, a rejected wrong page): the detector fine-tune starts by itself
    for item, truth, _ in (pool[0], pool[2]):
        accept(item, truth)
    run = _until(lambda: TrainingRun.objects.filter(kind="omr", scope_key=scope, trigger="corrections",
                                                    state__in=("succeeded", "failed")).first(), 240,
                 "finished fine-tune", worker)
    assert run.state == "succeeded", run.error
    candidate = ModelVersion.objects.get(pk=run.candidate_id)
    assert candidate.pk != v1 and candidate.metrics["golden"]["items"] == 2
    assert candidate.metrics["primary"] == "score" and candidate.metrics["champion"]["version"] == v1
    assert any(name.startswith("class:") for name in candidate.metrics["slices"])
    # two golden pages cannot tell: the gate says so, and promoting takes the override
    assert candidate.gate_verdict == "not_enough_evidence" and not candidate.promotable
    champion_promote(version_id=candidate.pk, actor=admin_user, reason="test", override=True,
                     override_reason="two golden pages: promoted to test the loop")
    assert champion_get(kind="omr", scope_key=scope).pk == candidate.pk
    assert worker.poll() is None
