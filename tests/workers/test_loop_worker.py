"""The loop end to end over a real Celery worker process and the real broker, watched on the WebSocket:
bootstrap -> predictions -> N accepted corrections -> a run starts by itself -> candidate with golden-set
metrics -> promote -> unreviewed items get the new version's predictions, the old ones are stale."""
import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection

from webapp.accounts.services import token_for
from webapp.config.asgi import application
from webapp.labeling.models import Prediction, WorkItem
from webapp.mlops.models import ModelVersion, TrainingRun
from webapp.mlops.services import champion_promote

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
HEADERS = [(b"origin", b"http://localhost"), (b"host", b"localhost")]


def _close_db():
    connection.close()


class Events:
    """Everything a WebSocket client received, so a test can wait for one event without losing others."""

    def __init__(self, communicator):
        self.communicator, self.seen = communicator, []

    async def wait(self, predicate, timeout: float, what: str):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        for message in self.seen:
            if predicate(message):
                return message
        while True:
            left = deadline - loop.time()
            if left <= 0:
                names = [m["event"] for m in self.seen]
                raise AssertionError(f"no {what} within {timeout:.0f}s; received {names}")
            # One wait for all the time left: a receive that times out cancels the communicator's application
            # (asgiref), so a shorter wait would end the socket at the first quiet spell (a worker importing
            # torch on a loaded machine is silent for longer than 5 s).
            try:
                message = await self.communicator.receive_json_from(timeout=left)
            except asyncio.TimeoutError:
                continue
            self.seen.append(message)
            if predicate(message):
                return message


async def _connect(path, token):
    headers = HEADERS + [(b"authorization", f"Token {token}".encode())]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["event"] == "hello"
    return communicator


def test_corrections_to_candidate_to_promotion_over_a_worker(start_worker, make_project, catheter_series_items,
                                                            accept, admin_user):
    scope = f"line:w-{uuid.uuid4().hex[:6]}"
    project = make_project("catheter", scope_key=scope, review_required=True, train_after_corrections=2,
                           train_after_minutes=60)
    pool = catheter_series_items(project, range(5))
    golden = catheter_series_items(project, range(100, 103))
    WorkItem.objects.filter(pk__in=[i.pk for i, _ in golden]).update(split="golden")
    token = token_for(user=admin_user)
    worker = start_worker()

    def kind_scope(m):
        p = m["payload"]
        return p.get("kind") == "catheter" and p.get("scope_key", (p.get("to") or {}).get("scope_key")) == scope

    async def scenario():
        mlops = Events(await _connect("/ws/mlops/", token))
        items = Events(await _connect(f"/ws/projects/{project.pk}/", token))
        # Accepting the golden items is the first accepted work of a scope without a model: it bootstraps.
        for item, truth in golden:
            await database_sync_to_async(accept)(item, truth)
        await mlops.wait(lambda m: m["event"] == "training.started" and kind_scope(m), 120, "bootstrap start")
        first = await mlops.wait(lambda m: m["event"] == "model.promoted" and m["payload"]["to"]["scope_key"] == scope,
                                 240, "bootstrap promotion")
        v1 = first["payload"]["to"]["id"]
        pool_ids = {i.pk for i, _ in pool}
        got = set()
        await items.wait(lambda m: m["event"] == "prediction.created" and m["payload"]["model_version"] == v1 and
                         got.add(m["payload"]["item"]) is None and pool_ids <= got, 180, "predictions of v1")

        # N=2 accepted corrections: a run starts by itself, reports progress, registers a candidate.
        for item, truth in pool[:2]:
            await database_sync_to_async(accept)(item, truth)
        started = await mlops.wait(lambda m: m["event"] == "training.started" and kind_scope(m) and
                                   m["payload"]["trigger"] == "corrections", 120, "the triggered run")
        run_id = started["payload"]["run"]
        await mlops.wait(lambda m: m["event"] == "training.progress" and m["payload"]["run"] == run_id and
                         m["payload"].get("step"), 240, "training progress")
        registered = await mlops.wait(lambda m: m["event"] == "model.registered" and m["payload"]["scope_key"] == scope
                                      and m["payload"]["id"] != v1, 300, "the candidate's registration")
        v2 = registered["payload"]["id"]
        await mlops.wait(lambda m: m["event"] == "training.finished" and m["payload"]["run"] == run_id, 60,
                         "the run's end")
        candidate = await database_sync_to_async(ModelVersion.objects.get)(pk=v2)
        assert candidate.metrics["golden"]["items"] == 3 and candidate.metrics["champion"]["version"] == v1
        assert candidate.metrics["slices"] and candidate.data_snapshot_id.startswith("sha256:")

        # Promotion: every inference worker switches, the unreviewed items are re-scored.
        await database_sync_to_async(champion_promote)(version_id=v2, actor=admin_user, reason="test",
                                                       override=not candidate.promotable,
                                                       override_reason="tiny test model: slices are noise")
        await mlops.wait(lambda m: m["event"] == "model.promoted" and m["payload"]["to"]["id"] == v2, 30, "promotion")
        await items.wait(lambda m: m["event"] == "predictions.rescoring", 60, "re-scoring notice")
        unreviewed = {i.pk for i, _ in pool[2:]}
        got2 = set()
        await items.wait(lambda m: m["event"] == "prediction.created" and m["payload"]["model_version"] == v2 and
                         got2.add(m["payload"]["item"]) is None and unreviewed <= got2, 180, "predictions of v2")
        for c in (mlops.communicator, items.communicator):
            await c.disconnect()
        await database_sync_to_async(_close_db)()
        return v1, v2, run_id

    v1, v2, run_id = asyncio.run(scenario())
    run = TrainingRun.objects.get(pk=run_id)
    assert run.state == "succeeded" and run.candidate_id == v2 and run.step > 0 and run.loss is not None
    for item, _ in pool[2:]:
        fresh = Prediction.objects.filter(item=item, stale=False)
        assert list(fresh.values_list("model_version_id", flat=True)) == [v2]
        assert Prediction.objects.get(item=item, model_version_id=v1).stale
    assert worker.poll() is None
