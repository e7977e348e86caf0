"""An admin's operating threshold reaches inference at its next batch (real tiny catheter model)."""
import pytest

from webapp.labeling.models import Prediction
from webapp.mlops.models import OperatingThreshold
from webapp.mlops.services import champion_promote, model_version_register, threshold_set
from workers import inference, tasks  # noqa: F401 - registers every task, as a worker does
from workers.adapters import get_adapter

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_threshold_change_changes_the_next_inference(settings, make_project, catheter_series_items, admin_user):
    from pathlib import Path

    project = make_project("catheter", scope_key="line:T")
    items = [i for i, _ in catheter_series_items(project, range(6))]
    out = Path(settings.LOUPE_MODEL_ROOT) / "catheter" / "t1"
    get_adapter("catheter").bootstrap(out_dir=out, scope_key="line:T", size="tiny", budget_s=0, callbacks=[],
                                      log=lambda s: None)
    version = model_version_register(kind="catheter", scope_key="line:T", artifact_uri=str(out))
    champion_promote(version_id=version.pk, actor=admin_user, reason="first model")

    def verdicts(batch):
        inference.predict([i.pk for i in batch], fill=False)
        return [Prediction.objects.get(item=i, model_version=version).payload["verdict"] for i in batch]

    threshold_set(version_id=version.pk, value=1.0, actor=admin_user, reason="nothing is a defect (test)")
    assert verdicts(items[:2]) == ["ok", "ok"]
    threshold_set(version_id=version.pk, value=0.0, actor=admin_user, reason="everything is a defect (test)",
                  basis="recall >= 1")
    assert verdicts(items[2:4]) == ["defect", "defect"]      # the very next batch, same process, same cache
    OperatingThreshold.objects.all().delete()               # none in force: the checkpoint's own again
    own = get_adapter("catheter").load(out, "cpu").verdict_threshold
    assert 0 < own < 1
    verdicts(items[4:])
    from workers.models import predictor_for

    assert predictor_for(version).verdict_threshold == own


def test_threshold_change_rescores_the_open_items_in_place(settings, make_project, catheter_series_items, admin_user,
                                                          django_capture_on_commit_callbacks, monkeypatch):
    """The change is audited, sent to the workers on commit, and re-scores the version's proposals on open
    items: from the stored scores where they suffice (a defect that falls below the threshold), by running
    the same model again where they do not (the boxes of a shot that rises above it). One prediction per
    item and version: the rows are replaced, not added. The next inference uses the threshold too."""
    from pathlib import Path

    from webapp.config.celery import app
    from webapp.core import tasknames
    from webapp.labeling.models import ItemState, WorkItem

    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, kwargs=None, **opts: sent.append((name, args)))
    project = make_project("catheter", scope_key="line:R")
    items = [i for i, _ in catheter_series_items(project, range(7))]
    out = Path(settings.LOUPE_MODEL_ROOT) / "catheter" / "r1"
    get_adapter("catheter").bootstrap(out_dir=out, scope_key="line:R", size="tiny", budget_s=0, callbacks=[],
                                      log=lambda s: None)
    version = model_version_register(kind="catheter", scope_key="line:R", artifact_uri=str(out))
    champion_promote(version_id=version.pk, actor=admin_user, reason="first model")
    inference.predict([i.pk for i in items[:6]], fill=False)
    accepted = items[5]
    WorkItem.objects.filter(pk=accepted.pk).update(state=ItemState.ACCEPTED)   # done work is never re-scored
    before = {p.item_id: p for p in Prediction.objects.filter(model_version=version)}
    assert len(before) == 6 and all(s["score"] < 1.0 for p in before.values() for s in p.scores["shots"])

    def change(value, reason):
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            row = threshold_set(version_id=version.pk, value=value, actor=admin_user, reason=reason)
        assert (tasknames.THRESHOLD_CHANGED, [version.pk, row.pk]) in sent
        return app.tasks[tasknames.THRESHOLD_CHANGED](version.pk, row.pk)   # the registered task, in process

    stats = change(1.0, "nothing is a defect (test)")
    assert stats["repredicted"] == 0 and stats["from_scores"] >= 1 and stats["failed"] == 0
    now = {p.item_id: p for p in Prediction.objects.filter(model_version=version)}
    assert {i: p.pk for i, p in now.items()} == {i: p.pk for i, p in before.items()}   # in place
    for item in items[:5]:
        p = now[item.pk]
        assert p.payload["verdict"] == "ok" and not any(s["defects"] for s in p.payload["shots"])
        assert WorkItem.objects.get(pk=item.pk).queue_rank == pytest.approx(p.uncertainty)
    assert now[accepted.pk].payload == before[accepted.pk].payload
    audit = OperatingThreshold.objects.filter(model_version=version).first()
    assert (audit.value, audit.actor, audit.reason) == (1.0, admin_user, "nothing is a defect (test)")

    stats = change(0.0, "everything is a defect (test)")
    assert stats["repredicted"] == 5 and stats["failed"] == 0   # ok shots need their boxes: the network again
    for item in items[:5]:
        p = Prediction.objects.get(item=item, model_version=version)
        assert p.payload["verdict"] == "defect" and all(s["defects"] for s in p.payload["shots"])
    assert Prediction.objects.filter(model_version=version).count() == 6
    # a change superseded by a newer one before its task ran does nothing
    older = OperatingThreshold.objects.filter(model_version=version).last()
    assert app.tasks[tasknames.THRESHOLD_CHANGED](version.pk, older.pk)["superseded"] == 1
    inference.predict([items[6].pk], fill=False)   # and the next inference uses it
    assert Prediction.objects.get(item=items[6], model_version=version).payload["verdict"] == "defect"
