"""The gate's rule (``webapp.mlops.gate``) on constructed per-item golden results: each of the three
verdicts, the minimum sizes, and that the compare page shows the same verdict the worker stores."""
import pytest

from tests.webapp.mlops.golden import evaluation
from webapp.mlops import comparison, gate

MARGIN = 0.05


def _outcomes(n_items: int, right_cand: float, right_champ: float, name: str = "defect:scratch",
              label: int = 1, first: int = 1, shift: int = 0) -> tuple[dict, dict]:
    """Per item (slice, label, score) for both sides: the first ``right * n`` items judged right (the
    candidate's counted from item ``shift`` on, wrapping round, so the two can disagree both ways)."""
    cand, champ = {}, {}
    for k, i in enumerate(range(first, first + n_items)):
        def score(right: bool) -> float:
            return (0.9 if right else 0.1) if label else (0.1 if right else 0.9)
        cand[i] = (name, label, score((k - shift) % n_items < right_cand * n_items))
        champ[i] = (name, label, score(k < right_champ * n_items))
    return cand, champ


def _judge(cand: dict, champ: dict) -> dict:
    return gate.judge(evaluation(cand), evaluation(champ), MARGIN)


def test_better_when_the_interval_lies_above_zero():
    cand, champ = _outcomes(80, right_cand=0.9, right_champ=0.6)
    decision = _judge(cand, champ)
    overall = decision["rows"][0]
    assert decision["verdict"] == gate.BETTER and overall["verdict"] == gate.BETTER
    assert overall["interval_method"].startswith("paired") and overall["interval"][0] > 0
    assert overall["n"] == 80 and overall["positives"] == 80


def test_worse_when_the_interval_lies_below_minus_margin():
    cand, champ = _outcomes(80, right_cand=0.5, right_champ=0.9)
    decision = _judge(cand, champ)
    assert decision["verdict"] == gate.WORSE and decision["rows"][0]["interval"][1] < -MARGIN
    assert any("worse" in r for r in decision["reasons"])


def test_not_enough_evidence_when_the_interval_straddles_zero():
    cand, champ = _outcomes(80, right_cand=0.62, right_champ=0.6, shift=10)
    decision = _judge(cand, champ)
    lo, hi = decision["rows"][0]["interval"]
    assert lo < 0 < hi and decision["verdict"] == gate.NOT_ENOUGH_EVIDENCE


def test_not_enough_evidence_on_too_few_items_whatever_the_difference():
    # every item flips from wrong to right, but there are only 8 of them
    cand, champ = _outcomes(8, right_cand=1.0, right_champ=0.0)
    decision = _judge(cand, champ)
    assert decision["verdict"] == gate.NOT_ENOUGH_EVIDENCE
    assert decision["rows"][0]["too_few"] and "needed to decide" in decision["rows"][0]["why"]
    # and a total loss on 8 items is not proven worse either: it cannot be called better, nor worse
    decision = _judge(*reversed(_outcomes(8, right_cand=1.0, right_champ=0.0)))
    assert decision["verdict"] == gate.NOT_ENOUGH_EVIDENCE


def test_too_few_positives_keep_a_mixed_slice_from_deciding():
    # 40 OK items and 6 defective ones: the overall row has enough items but too few positives
    ok_c, ok_b = _outcomes(40, 1.0, 1.0, name="verdict:ok", label=0)
    bad_c, bad_b = _outcomes(6, 1.0, 0.0, name="defect:bubble", first=100)
    decision = _judge({**ok_c, **bad_c}, {**ok_b, **bad_b})
    overall = decision["rows"][0]
    assert overall["positives"] == 6 and overall["too_few"] and overall["verdict"] == gate.NOT_ENOUGH_EVIDENCE
    assert decision["verdict"] == gate.NOT_ENOUGH_EVIDENCE


def test_a_better_slice_counts_only_while_overall_stays_within_the_margin():
    # the scratch slice gains clearly, the OK slice neither gains nor loses: better overall
    gain_c, gain_b = _outcomes(40, 0.95, 0.5)
    same_c, same_b = _outcomes(200, 0.95, 0.95, name="verdict:ok", label=0, first=100)
    decision = _judge({**gain_c, **same_c}, {**gain_b, **same_b})
    rows = {r["slice"]: r for r in decision["rows"]}
    assert rows["defect:scratch"]["verdict"] == gate.BETTER and decision["verdict"] == gate.BETTER
    # the same gain, with a small slice that visibly loses more than the margin (too small to convict):
    # not better
    lose_c, lose_b = _outcomes(6, 0.0, 1.0, name="defect:bubble", first=500)
    decision = _judge({**gain_c, **same_c, **lose_c}, {**gain_b, **same_b, **lose_b})
    assert decision["verdict"] == gate.NOT_ENOUGH_EVIDENCE
    assert any("defect:bubble" in r for r in decision["reasons"])


def test_no_champion_or_no_golden_set_is_not_enough_evidence():
    cand, _ = _outcomes(80, 0.9, 0.6)
    assert gate.judge(evaluation(cand), None, MARGIN)["verdict"] == gate.NOT_ENOUGH_EVIDENCE
    assert gate.judge(None, None, MARGIN)["verdict"] == gate.NOT_ENOUGH_EVIDENCE


def test_aggregates_only_use_the_slice_size():
    cand = {"primary": "score", "overall": {"pages": 400, "score": 0.9},
            "slices": {"font:x": {"pages": 5, "score": 0.9}}}
    champ = {"primary": "score", "overall": {"pages": 400, "score": 0.7},
             "slices": {"font:x": {"pages": 5, "score": 0.1}}}
    decision = gate.judge(cand, champ, MARGIN)
    rows = {r["slice"]: r for r in decision["rows"]}
    assert rows["overall"]["interval_method"].startswith("parametric") and rows["overall"]["verdict"] == gate.BETTER
    assert rows["font:x"]["too_few"] and rows["font:x"]["verdict"] == gate.NOT_ENOUGH_EVIDENCE
    assert decision["verdict"] == gate.BETTER


@pytest.mark.parametrize("right", [(0.9, 0.6), (0.5, 0.9), (0.62, 0.6)])
def test_the_compare_page_reads_the_same_rule(right):
    cand, champ = _outcomes(80, *right, shift=10)
    decision = _judge(cand, champ)
    shown = comparison.version_comparison(evaluation(cand), evaluation(champ), MARGIN)
    assert shown["verdict"] == decision["verdict"]
    assert [(r["slice"], r["interval"], r["verdict"]) for r in shown["rows"]] == \
        [(r["slice"], r["interval"], r["verdict"]) for r in decision["rows"]]
