"""Series-aware scores: an alarm that stays at the same pixels in every shot is not on the turning balloon."""
import numpy as np
import pytest

from ml.catheter.series import MIN_SHOTS, moving_share, series_scores, static_response


def _maps(k=8, size=32):
    return np.zeros((k, 4, size, size), np.float32)


def test_static_alarm_is_pushed_down_and_a_moving_defect_keeps_its_score():
    maps = _maps()
    maps[:, 3, 5, 5] = 0.95                  # a water ring behind the tube: every shot, same cell
    maps[2, 1, 10 + 2, 20] = 0.9             # a defect seen in shots 2 and 3, one row lower in the next
    maps[3, 1, 10 + 6, 20] = 0.8
    scores = np.full(8, 0.9)
    out = series_scores(scores, maps)
    assert out[[0, 1, 4, 5, 6, 7]].max() < 0.01
    assert out[2] > 0.8 and out[3] > 0.7
    assert static_response(maps)[5, 5] == np.float32(0.95)


def test_a_look_alike_that_changes_type_between_shots_is_still_static():
    maps = _maps()
    for k in range(8):
        maps[k, k % 4, 7, 9] = 0.7
    assert moving_share(maps).max() < 1e-6


def test_a_look_alike_seen_in_most_shots_only_is_still_static():
    maps = _maps()
    maps[:5, 2, 3, 3] = 0.8                  # missed by the model in three of eight shots
    assert moving_share(maps)[:5].max() < 1e-6


def test_a_short_series_is_left_alone_and_a_silent_map_scores_zero():
    maps = _maps(k=MIN_SHOTS - 1)
    maps[:, 0, 1, 1] = 0.9
    assert np.allclose(series_scores(np.array([0.9, 0.8, 0.7]), maps), [0.9, 0.8, 0.7])
    assert np.allclose(series_scores(np.full(8, 0.2), _maps()), 0.0)


def test_the_operating_point_is_the_highest_threshold_that_keeps_the_recall():
    from ml.catheter.series import operating_point

    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1] * 10)
    labels = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0] * 10)   # 40 defective; the weakest at 0.6
    point = operating_point(scores, labels, 0.98)             # 0 of 40 may be missed
    assert point["recall"] == 1.0 and 0.59 < point["threshold"] <= 0.6
    assert point["precision"] == 0.8 and point["flagged"] == 50 and point["defective"] == 40
    loose = operating_point(scores, labels, 0.70)             # 12 of 40 may be missed: the 0.6 ones go
    assert loose["threshold"] > 0.6 and loose["recall"] >= 0.7 and loose["precision"] > point["precision"]


def test_calibration_per_series_length_and_the_nearest_length_serves(tiny_checkpoint):
    from ml.catheter.predict import Predictor
    from ml.catheter.series import calibrate, evaluate, operating_point, threshold_for

    pred = Predictor.load(tiny_checkpoint, device="cpu")
    assert pred.series_point(3) is None                       # trained, not calibrated on series
    cal = calibrate(pred, seed=6, balloons=8, lengths=(2, 5), defect_rate=0.5, side=128, difficulty="easy")
    assert set(cal["by_length"]) == {"2", "5"} and cal["target_recall"] == 0.98
    assert all(p["recall"] >= 0.98 for p in cal["by_length"].values())
    assert threshold_for(cal, 3)["calibrated_shots"] == 2 and threshold_for(cal, 4)["calibrated_shots"] == 5
    assert threshold_for(cal, 9)["calibrated_shots"] == 5 and threshold_for(None, 3) is None
    pred.series_calibration = cal
    assert pred.series_point(5)["threshold"] == cal["by_length"]["5"]["threshold"]
    pred.series_threshold_override = 0.5
    assert pred.series_point(5)["threshold"] == 0.5
    held = evaluate(pred, seed=5, balloons=8, lengths=(5,), defect_rate=0.5, side=128, difficulty="easy")
    assert held["by_length"]["5"]["threshold"] == 0.5 and held["by_length"]["5"]["series"] == 8
    with pytest.raises(ValueError, match="no defective series"):
        operating_point(np.array([0.1, 0.2]), np.array([0, 0]))
