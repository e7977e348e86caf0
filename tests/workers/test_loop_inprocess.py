"""The loop's steps called in this process (no worker): bootstrap, prediction, trigger, fine-tune, gate,
promotion, re-scoring. The same code runs in the worker test; here failures are easier to read."""
import pytest

from webapp.labeling.models import ItemState, Prediction, WorkItem
from webapp.mlops.models import ChampionAlias, ModelVersion, PromotionAudit, TrainingRun
from webapp.mlops.services import champion_promote
from workers import inference, training, triggers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_bootstrap_predict_trigger_finetune_gate_promote_rescore(bootstrapped_scope, catheter_series_items, accept,
                                                                 admin_user):
    # No champion: the scope bootstraps a first model from the generator, promoted with an audit entry.
    project, scope, first = bootstrapped_scope(train_after_corrections=2)
    assert first is not None and first.number == 1
    golden_ids = set(WorkItem.objects.filter(project=project, split="golden").values_list("pk", flat=True))
    assert len(golden_ids) == 3
    audit = PromotionAudit.objects.get(to_version=first)
    assert audit.actor is None and "bootstrap" in audit.reason
    assert first.metrics["golden"]["items"] == 3 and first.metrics["primary"] == "proposal_agreement"

    # Its promotion re-scores the scope: every unaccepted item gets a prediction of the champion.
    pool = catheter_series_items(project, range(6))
    inference.rescore("catheter", scope, first.pk)
    stats = inference.predict([i.pk for i, _ in pool], fill=False)
    assert stats["predicted"] == 6
    assert Prediction.objects.filter(model_version=first, stale=False).count() == 6
    assert set(WorkItem.objects.filter(split="pool").values_list("state", flat=True)) == {ItemState.PREDICTED}

    # One correction is not enough (N=2); the second starts a run by itself.
    accept(pool[0][0], pool[0][1])
    assert triggers.check_scope("catheter", scope)["decision"] == "wait"
    accept(pool[1][0], pool[1][1])
    decision = triggers.check_scope("catheter", scope, project_id=project.pk)
    assert decision["decision"] == "started" and decision["trigger"] == "corrections"
    run_id = decision["run"]
    assert triggers.check_scope("catheter", scope)["decision"] == "busy"   # one active run per scope
    assert training.run_training(run_id).startswith("registered")
    run = TrainingRun.objects.get(pk=run_id)
    assert run.state == "succeeded" and run.step > 0 and run.progress == 1.0
    candidate = run.candidate
    assert candidate.number == 2 and candidate.data_snapshot_id.startswith("sha256:")
    assert candidate.metrics["champion"]["version"] == first.pk
    assert set(candidate.metrics["slices"]) == set(candidate.metrics["champion"]["slices"])
    assert candidate.metrics["gate"]["compared"] is True
    # per golden item on both sides, for the compare page (paired intervals, disagreements, PR curves)
    assert {r["item"] for r in candidate.metrics["items"]} == golden_ids
    assert {r["item"] for r in candidate.metrics["champion"]["items"]} == golden_ids
    assert all(0 <= r["value"] <= 1 and r["label"] in (0, 1) and r["slices"] for r in candidate.metrics["items"])
    assert len(candidate.metrics["training"]["loss_curve"]) >= 1
    from webapp.mlops.selectors import version_compare

    compared = version_compare(candidate_id=candidate.pk)
    assert compared["against"] == first and compared["comparison"]["per_item"]
    assert compared["comparison"]["rows"][0]["interval_method"].startswith("paired")
    # a precision-recall curve needs a defective golden item
    assert (compared["plots"]["pr"] is not None) == any(r["label"] for r in candidate.metrics["items"])
    assert run.params["n_new"] == 2 and run.params["cutoff"] and len(run.params["used_revisions"]) >= 2
    # the golden items were never trained on: the snapshot names the two corrections (+ replay, no golden)
    assert not set(run.params["new_items"]) & golden_ids
    # the trigger now waits again: those corrections were used by the run
    assert triggers.check_scope("catheter", scope)["decision"] == "wait"

    # Promote (with override if the tiny model happened to regress a slice): old predictions go stale,
    # unaccepted items get the new version's.
    champion_promote(version_id=candidate.pk, actor=admin_user, reason="test",
                     override=not candidate.promotable, override_reason="tiny test model: slices are noise")
    inference.rescore("catheter", scope, candidate.pk)
    inference.predict([i.pk for i, _ in pool[2:]], fill=False)
    for item, _ in pool[2:]:
        fresh = Prediction.objects.filter(item=item, stale=False)
        assert [p.model_version_id for p in fresh] == [candidate.pk]
        assert Prediction.objects.get(item=item, model_version=first).stale
    # accepted items keep their predictions as they were
    assert ChampionAlias.objects.get(kind="catheter", scope_key=scope).model_version_id == candidate.pk
    assert ModelVersion.objects.filter(kind="catheter", scope_key=scope).count() == 2
