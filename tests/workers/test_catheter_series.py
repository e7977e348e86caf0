"""The catheter verdict per balloon: with a series calibration the worker judges a rotation series as a whole,
on the series score against the balloon threshold; the shots that reach it drove the verdict and carry the
boxes. An admin's operating threshold moves that threshold, and the golden-set curve is the balloon's."""
import json

import numpy as np
import pytest

from ml.catheter.series import balloon_score, score_series, series_scores
from workers.adapters import get_adapter
from workers.itemdata import load_items

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
SHOTS = 4


def _calibration(threshold: float) -> dict:
    point = {"threshold": threshold, "recall": 0.98, "precision": 0.5, "target_recall": 0.98, "series": 10,
             "defective": 5, "flagged": 9}
    return {"target_recall": 0.98, "seed": 1, "balloons": 10, "difficulty": "realistic", "by_length": {"8": point}}


@pytest.fixture
def tiny(tmp_path):
    out = tmp_path / "tiny"
    get_adapter("catheter").bootstrap(out_dir=out, scope_key="", size="tiny", budget_s=0, callbacks=[],
                                      log=lambda s: None)
    return out


@pytest.fixture
def series_items(make_project, catheter_series_items):
    project = make_project("catheter", scope_key="line:S")
    made = catheter_series_items(project, [0, 1, 2], shots=SHOTS)
    return made, load_items([i.pk for i, _ in made], mode="RGB")


def test_the_series_threshold_decides_the_balloon_and_names_the_shots(tiny, series_items):
    adapter = get_adapter("catheter")
    _, items = series_items
    predictor = adapter.load(tiny, "cpu")
    predictor.verdict_threshold = 0.0               # every shot alone would be defective
    predictor.series_calibration = _calibration(1.01)
    for proposal in adapter.predict(predictor, items, batch_size=4):
        assert proposal.annotation["verdict"] == "ok" and not any(s["defects"] for s in proposal.annotation["shots"])
        assert proposal.scores["series"]["drove"] == [] and proposal.scores["series"]["threshold"] == 1.01
        assert proposal.scores["series"]["operating_point"]["calibrated_shots"] == 8
        assert proposal.scores["series"]["operating_point"]["precision"] == 0.5
        for shot in proposal.scores["shots"]:
            assert shot["verdict"] == "ok" and shot["series_score"] <= shot["score"] + 1e-6

    predictor.verdict_threshold = 1.01              # no shot alone would be; the balloon threshold says all are
    predictor.series_calibration = _calibration(0.0)
    for item, proposal in zip(items, adapter.predict(predictor, items, batch_size=4)):
        assert proposal.annotation["verdict"] == "defect" and proposal.scores["series"]["drove"] == [0, 1, 2, 3]
        assert all(shot["defects"] for shot in proposal.annotation["shots"])
        scores, maps = score_series(predictor, item.images)
        expected = series_scores(scores, maps)
        assert np.allclose([s["series_score"] for s in proposal.scores["shots"]], expected, atol=1e-4)
        assert proposal.scores["series"]["score"] == pytest.approx(balloon_score(scores, maps), abs=1e-4)


def test_without_a_series_calibration_each_shot_is_judged_alone(tiny, series_items):
    adapter = get_adapter("catheter")
    _, items = series_items
    predictor = adapter.load(tiny, "cpu")
    assert predictor.series_calibration is None
    predictor.verdict_threshold = 0.0
    for proposal in adapter.predict(predictor, items, batch_size=4):
        assert "series" not in proposal.scores and proposal.annotation["verdict"] == "defect"


def test_the_operating_threshold_moves_the_balloon_threshold_and_rescoring_follows(tiny, series_items):
    adapter = get_adapter("catheter")
    _, items = series_items
    predictor = adapter.load(tiny, "cpu")
    predictor.series_calibration = _calibration(0.0)
    flagged = adapter.predict(predictor, items[:1], batch_size=4)[0]
    adapter.apply_threshold(predictor, 1.01)        # an admin's threshold: nothing reaches it
    assert predictor.series_point(SHOTS)["threshold"] == 1.01 and predictor.verdict_threshold != 1.01
    calmer = adapter.rescore(predictor, flagged.annotation, flagged.scores, flagged.uncertainty)
    assert calmer.annotation["verdict"] == "ok" and calmer.scores["series"]["drove"] == []
    adapter.apply_threshold(predictor, 0.0)         # a shot rising above it needs its boxes: predicted again
    assert adapter.rescore(predictor, calmer.annotation, calmer.scores, calmer.uncertainty) is None
    adapter.apply_threshold(predictor, None)        # back to the calibrated threshold
    assert predictor.series_point(SHOTS)["threshold"] == 0.0


def test_golden_items_are_scored_by_their_balloon_and_the_operating_point_is_read(tiny, series_items):
    adapter = get_adapter("catheter")
    made, items = series_items
    assert adapter.operating_point(tiny) is None
    for (_, truth), item in zip(made, items):
        item.annotation = truth
    samples = adapter.samples(items)
    plain = {r["item"]: r["score"] for r in adapter.evaluate(tiny, samples, "cpu").items}
    config = json.loads((tiny / "config.json").read_text())
    config["thresholds"]["series"] = _calibration(0.3)
    (tiny / "config.json").write_text(json.dumps(config))
    point = adapter.operating_point(tiny)
    assert point["target_recall"] == 0.98 and point["by_length"]["8"]["precision"] == 0.5
    balloons = {r["item"]: r["score"] for r in adapter.evaluate(tiny, samples, "cpu").items}
    predictor = adapter.load(tiny, "cpu")
    for item in items:
        expected = balloon_score(*score_series(predictor, item.images))
        assert balloons[item.item_id] == pytest.approx(expected, abs=1e-4)
        assert balloons[item.item_id] <= plain[item.item_id] + 1e-4   # the series score never exceeds the shots'


def test_a_fine_tuned_candidate_keeps_its_parents_balloon_threshold_or_is_calibrated_on_corrections(tiny, tmp_path):
    """The worker's candidate keeps its parent's balloon calibration (fine-tuning alone would judge it shot by
    shot); calibrated on corrected balloons instead, every defective one is called with a safety margin, and
    with too few of them the parent's is kept."""
    from ml.catheter.data import samples_from_series
    from ml.catheter.predict import Predictor
    from ml.common.checkpoint import CONFIG
    from workers.adapters.catheter_calibration import SAFETY, recalibrate_on_corrections
    from workers.demo_sources import catheter_series

    config = json.loads((tiny / CONFIG).read_text())
    config["thresholds"]["series"] = _calibration(0.5)
    (tiny / CONFIG).write_text(json.dumps(config))
    samples, labels = [], []
    for i in range(8):
        series, truth = catheter_series(i, 11, size=128, shots=SHOTS)
        samples += samples_from_series([s.image for s in series], truth, {"id": f"item{i}", "series": f"item{i}"})
        labels.append(truth["verdict"] == "defect")
    assert any(labels) and not all(labels)
    out = tmp_path / "candidate"
    meta = get_adapter("catheter").finetune(base_dir=tiny, new=samples, replay=[], out_dir=out, steps=2,
                                            callbacks=[], log=lambda s: None)
    assert json.loads((out / CONFIG).read_text())["thresholds"]["series"] == _calibration(0.5)
    assert meta["thresholds"]["series"] == _calibration(0.5)

    series = recalibrate_on_corrections(out, tiny, samples, log=lambda s: None)
    assert json.loads((out / CONFIG).read_text())["thresholds"]["series"] == series
    assert (series["source"], series["balloons"]) == ("corrections", 8) and set(series["by_length"]) >= {"3", "4", "8"}
    predictor = Predictor.load(out, device="cpu")
    scores = [balloon_score(*score_series(predictor, [s.image for s in samples[k * SHOTS:(k + 1) * SHOTS]]))
              for k in range(8)]
    weakest = min(s for s, defective in zip(scores, labels) if defective)
    assert series["by_length"]["4"]["threshold"] == pytest.approx(weakest * SAFETY, abs=1e-5)
    assert series["by_length"]["4"]["recall"] == 1.0

    assert recalibrate_on_corrections(out, tiny, samples[:2 * SHOTS], log=lambda s: None) == _calibration(0.5)
