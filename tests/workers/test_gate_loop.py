"""The gate in the loop, through the training task as the worker runs it: a candidate judged on a golden set
too small to decide is not promoted automatically (and a manual promotion needs the override), and the
share of corrections held out to grow the golden set is never trained on."""
import pytest

from webapp.core.errors import Conflict
from webapp.labeling.models import WorkItem
from webapp.mlops.models import ChampionAlias, PromotionAudit
from webapp.mlops.selectors import champion_get
from webapp.mlops.services import champion_promote
from workers import training, trainset, triggers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_auto_promotion_refuses_a_candidate_the_golden_set_cannot_judge(bootstrapped_scope, catheter_series_items,
                                                                        accept, admin_user, settings):
    settings.LOUPE_GOLDEN_HOLDOUT_EVERY = 0
    project, scope, first = bootstrapped_scope(auto_promote=True, train_after_corrections=2)
    assert first.gate_verdict == ""   # a first model is promoted without a verdict: nothing to beat
    for item, truth in catheter_series_items(project, range(2)):
        accept(item, truth)
    decision = triggers.check_scope("catheter", scope, project_id=project.pk)
    assert decision["decision"] == "started"
    assert training.run_training(decision["run"]).startswith("registered")

    candidate = champion_get(kind="catheter", scope_key=scope, fallback_to_global=False)
    assert candidate.pk == first.pk   # still the first model: auto-promotion on, but nothing was proven
    candidate = first.__class__.objects.get(kind="catheter", scope_key=scope, number=2)
    assert candidate.gate_verdict == "not_enough_evidence" and not candidate.promotable
    assert candidate.metrics["gate"]["rows"][0]["too_few"]   # 3 golden items
    assert any("3 golden items, 15 needed to decide" in r for r in candidate.blocked_reasons)
    assert not PromotionAudit.objects.filter(to_version=candidate).exists()
    # the golden set did not change since the first model was registered: its stored figures served
    assert candidate.metrics["champion"]["stored"] and candidate.metrics["champion"]["version"] == first.pk
    assert candidate.metrics["champion"]["items"] == first.metrics["items"]

    # By hand, like a blocked version: the override and its own reason.
    with pytest.raises(Conflict, match="not enough evidence"):
        champion_promote(version_id=candidate.pk, actor=admin_user, reason="looks fine")
    audit = champion_promote(version_id=candidate.pk, actor=admin_user, reason="looks fine", override=True,
                             override_reason="3 golden items: accepted without evidence for the demo")
    assert audit.override and ChampionAlias.objects.get(kind="catheter", scope_key=scope).model_version == candidate


def test_held_out_corrections_grow_the_golden_set_and_are_never_trained_on(bootstrapped_scope, catheter_series_items,
                                                                           accept, settings):
    settings.LOUPE_GOLDEN_HOLDOUT_EVERY = 2
    project, scope, first = bootstrapped_scope(train_after_corrections=4)
    # Items until two the hash holds out and two it leaves to training (one in two: a few items do).
    held, kept = [], []
    for index in range(16):
        (item, truth), = catheter_series_items(project, [index])
        bucket = held if trainset.holdout_selects(item.pk, 2) else kept
        if len(bucket) < 2:
            bucket.append((item, truth))
        if len(held) == 2 and len(kept) == 2:
            break
    assert len(held) == 2 and len(kept) == 2
    for item, truth in held + kept:
        accept(item, truth)
    decision = triggers.check_scope("catheter", scope, project_id=project.pk)
    assert decision["decision"] == "started"
    assert training.run_training(decision["run"]).startswith("registered")

    run = first.__class__.objects.get(kind="catheter", scope_key=scope, number=2).training_run
    held_ids = {i.pk for i, _ in held}
    # The golden set had 3 items, so every slice lacked items: the hashed share went to the golden set.
    assert set(run.params["held_out"]) == held_ids
    assert set(WorkItem.objects.filter(pk__in=held_ids).values_list("split", flat=True)) == {"golden"}
    assert all(WorkItem.objects.get(pk=pk).meta["held_out"] for pk in held_ids)
    # ... never trained on: neither new nor replayed, not in the data snapshot's revisions
    assert set(run.params["new_items"]) == {i.pk for i, _ in kept}
    held_revisions = set(WorkItem.objects.filter(pk__in=held_ids).values_list("head_revision_id", flat=True))
    assert not held_revisions & set(run.params["used_revisions"])
    # ... and judged on: the candidate's golden evaluation covers them
    candidate = run.candidate
    assert candidate.metrics["golden"]["items"] == 5
    assert not candidate.metrics["champion"]["stored"]   # the golden set grew: the champion judged anew
    assert held_ids <= {r["item"] for r in candidate.metrics["items"]}
    # The next run does not see them as new corrections either.
    assert not {c.item_id for c in trainset.new_corrections("catheter", scope)} & held_ids
