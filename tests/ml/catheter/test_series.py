"""Series-aware scores: an alarm that stays at the same pixels in every shot is not on the turning balloon."""
import numpy as np

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
