"""Hard-negative mining: crops of OK shots go where the model being trained fires most."""
from dataclasses import replace

import numpy as np
import torch

from ml.catheter.config import preset
from ml.catheter.data import prepare
from ml.catheter.batches import Batches


class FiresAtOnePlace(torch.nn.Module):
    """A model whose defect map (at half resolution, as CatheterNet's) peaks at map cell (row, col)."""

    def __init__(self, row: int, col: int):
        super().__init__()
        self.row, self.col = row, col

    def forward(self, x):
        b, _, h, w = x.shape
        seg = torch.zeros(b, 4, h // 2, w // 2)
        seg[:, 2, self.row, self.col] = 5.0
        return {"seg_logits": seg, "image_logits": seg.flatten(2).amax(2)}


def _ok_shots(small_samples, n=6):
    return [s for s in small_samples if not s.is_defect][:n]


def _holds(window, spot, side):
    (y0, x0), (y, x) = window, spot
    return y0 <= y < y0 + side and x0 <= x < x0 + side


def test_crops_of_ok_shots_centre_on_the_models_strongest_false_alarm(small_samples):
    prep = prepare(_ok_shots(small_samples), 64)
    tc = replace(preset("tiny").train, crop=16, hard_negatives=1.0, mine_per_epoch=6, oversample=0.0)
    batches = Batches(prep, tc, torch.device("cpu"), steps=1, model=FiresAtOnePlace(row=25, col=4))
    batches.mine(1)
    assert batches.spots == {i: (51, 9) for i in range(len(prep))}     # map cell (25, 4) at half resolution
    rng = np.random.default_rng(0)
    windows = [batches._window(i, prep.masks(i), rng) for i in range(len(prep)) for _ in range(5)]
    assert all(_holds(w, (51, 9), 16) for w in windows)
    assert len(set(windows)) > 1                                          # jittered, not one fixed crop
    crop, masks = batches._crop(0, rng)
    assert crop.shape == (16, 16, 3) and masks.shape == (4, 16, 16)


def test_without_hard_negatives_the_crops_of_ok_shots_stay_where_they_were(small_samples):
    prep = prepare(_ok_shots(small_samples), 64)
    tc = replace(preset("tiny").train, crop=16, hard_negatives=0.0, mine_per_epoch=6, oversample=0.0)
    batches = Batches(prep, tc, torch.device("cpu"), steps=1, model=FiresAtOnePlace(row=25, col=4))
    batches.mine(1)
    rng = np.random.default_rng(0)
    windows = [batches._window(i, prep.masks(i), rng) for i in range(len(prep)) for _ in range(5)]
    assert not all(_holds(w, (51, 9), 16) for w in windows)


def test_no_mining_on_the_first_epoch_when_off_or_without_a_model(small_samples):
    prep = prepare(_ok_shots(small_samples), 64)
    tc = replace(preset("tiny").train, crop=16, hard_negatives=0.5, mine_per_epoch=6)
    on = Batches(prep, tc, torch.device("cpu"), steps=1, model=FiresAtOnePlace(3, 3))
    on.mine(0)
    assert on.spots == {}
    off = Batches(prep, replace(tc, hard_negatives=0.0), torch.device("cpu"), steps=1, model=FiresAtOnePlace(3, 3))
    off.mine(1)
    assert off.spots == {}
    no_model = Batches(prep, tc, torch.device("cpu"), steps=1)
    no_model.mine(1)
    assert no_model.spots == {}


def test_mining_on_chosen_shots_leaves_the_others_unmined(small_samples):
    prep = prepare(_ok_shots(small_samples), 64)
    tc = replace(preset("tiny").train, crop=16, hard_negatives=1.0, oversample=0.0)
    batches = Batches(prep, tc, torch.device("cpu"), steps=1, model=FiresAtOnePlace(row=25, col=4))
    batches.mine_on(np.array([0, 2]))
    assert batches.spots == {0: (51, 9), 2: (51, 9)}
