"""Series-aware verdict scores: what stays still while the balloon turns is not on the balloon.

In a rotation series the camera, the lamp and the background do not move; only the balloon turns. A defect
on its surface moves across the image from shot to shot and is seen in a minority of the shots (it leaves
the view on the far side); a speck, lint or water ring on the background behind the transparent tube, and a
glint of the lamp, stay at the same pixels in every shot. The per-pixel median of the defect maps over the
series is therefore the *static* response; what a shot shows above it is what moved. A shot's score is
its own score scaled by the share of its strongest map response that is not static, so a shot whose only
alarm sits where every shot of the series fires is pushed down, and a shot with a moving defect keeps its
score. Series of fewer than ``MIN_SHOTS`` shots are left as they are (a median of two is no evidence).
"""
from __future__ import annotations

import numpy as np

MIN_SHOTS = 4


def static_response(maps: np.ndarray) -> np.ndarray:
    """``maps``: K x T x h x w defect probabilities of one series -> h x w per-pixel median over the shots of
    the strongest type (a look-alike may fire as a different type from shot to shot)."""
    return np.median(maps.max(axis=1), axis=0)


def moving_and_top(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per shot (``maps``: K x T x h x w), the strongest response above the static one, and the strongest."""
    peak = maps.max(axis=1)                                       # K x h x w
    moving = np.clip(peak - static_response(maps)[None], 0.0, None).reshape(len(peak), -1).max(axis=1)
    return moving, peak.reshape(len(peak), -1).max(axis=1)


def moving_share(maps: np.ndarray) -> np.ndarray:
    """Per shot, max(map - static) / max(map), in [0, 1]: 1 when the shot's strongest response moved with the
    balloon, near 0 when it sits where the whole series fires. ``maps``: K x T x h x w."""
    moving, top = moving_and_top(maps)
    return np.where(top > 0, moving / np.maximum(top, 1e-6), 0.0)


def series_scores(scores: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Verdict scores of one series' shots (``scores``: K, ``maps``: K x T x h x w) with static alarms pushed
    down; unchanged for a series shorter than ``MIN_SHOTS``."""
    scores = np.asarray(scores, np.float64)
    if len(scores) < MIN_SHOTS:
        return scores
    return scores * moving_share(np.asarray(maps, np.float32))
