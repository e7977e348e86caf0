import json

import numpy as np
import pytest
import torch

from ml.catheter import DEFECT_TYPES
from ml.catheter.adversarial import fgsm
from ml.catheter.config import CatheterConfig, preset
from ml.catheter.data import prepare
from ml.catheter.model import GuidedReLU, build_model, guided
from ml.catheter.predict import Predictor
from ml.catheter.saliency import guided_backprop, local_entropy, pointing_hit
from ml.catheter.training import finetune, make_loss
from ml.common.checkpoint import load_config
from ml.common.trainer import FunctionCallback, TrainingCancelled


def _batch(samples, size):
    prep = prepare(samples, size)
    x = torch.from_numpy(prep.images).permute(0, 3, 1, 2).float() / 255
    m = torch.from_numpy(np.stack([prep.masks(i) for i in range(len(prep))])).float()
    seg = torch.nn.functional.max_pool2d(m, 2)
    return x, seg, seg.flatten(2).amax(2)


def test_overfits_one_batch(small_samples):
    torch.manual_seed(0)
    cfg = preset("tiny")
    batch = [s for s in small_samples if s.is_defect][:4] + [s for s in small_samples if not s.is_defect][:4]
    x, seg, y = _batch(batch, cfg.model.input_size)
    model = build_model(cfg.model)
    loss_fn = make_loss(cfg.train, y.numpy().mean(0))
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    first = None
    for _ in range(150):
        loss, _ = loss_fn(model(x), seg, y)
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        p = torch.sigmoid(model(x)["image_logits"])
    assert float(loss) < 0.2 * first
    assert ((p > 0.5).float() == y).float().mean() >= 0.95


def test_guided_backprop_differs_from_vanilla_and_is_restored():
    cfg = preset("tiny")
    model = build_model(cfg.model).eval()
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    model(x)["image_logits"].max(1).values.sum().backward()
    vanilla = x.grad.abs().amax(1)
    sal = guided_backprop(model, x.detach())
    assert sal.shape == (2, 64, 64) and (sal >= 0).all()
    assert not torch.allclose(sal, vanilla)
    assert not any(m.guided for m in model.modules() if isinstance(m, GuidedReLU))
    with guided(model):
        assert all(m.guided for m in model.modules() if isinstance(m, GuidedReLU))


def test_local_entropy_and_pointing():
    flat = torch.zeros(1, 64, 64)
    flat[0, 10, 10] = 1.0
    noise = torch.rand(1, 64, 64, generator=torch.Generator().manual_seed(0))
    assert float(local_entropy(flat)) < 0.05 < 2.5 < float(local_entropy(noise))
    assert pointing_hit((5, 5), [[0, 0, 10, 10]]) and not pointing_hit((12, 5), [[0, 0, 10, 10]])
    assert pointing_hit((12, 5), [[0, 0, 10, 10]], tol=2)


def test_fgsm_stays_in_budget_and_raises_loss():
    cfg = preset("tiny")
    torch.manual_seed(1)
    model = build_model(cfg.model).eval()
    x = torch.rand(3, 3, 64, 64) * 0.8 + 0.1
    y = torch.zeros(3, 4)
    xa = fgsm(model, x, y, 4 / 255)
    assert float((xa - x).abs().max()) <= 4 / 255 + 1e-6
    with torch.no_grad():
        l0 = torch.nn.functional.binary_cross_entropy_with_logits(model(x)["image_logits"], y)
        l1 = torch.nn.functional.binary_cross_entropy_with_logits(model(xa)["image_logits"], y)
    assert float(l1) > float(l0)


def test_checkpoint_round_trip(tiny_checkpoint, small_samples):
    meta = load_config(tiny_checkpoint)
    files = {p.name for p in tiny_checkpoint.iterdir()}
    assert {"model.safetensors", "config.json"} <= files and not any(f.endswith((".pt", ".pkl", ".pth")) for f in files)
    assert meta["kind"] == "catheter" and set(meta["thresholds"]["types"]) == set(DEFECT_TYPES)
    assert np.isfinite(meta["flag"]["threshold"])
    cfg = CatheterConfig.from_dict(json.loads(json.dumps(meta["config"])))
    assert cfg.model.input_size == 64 and cfg.model.widths == (8, 8, 16, 16, 16)
    a = Predictor.load(tiny_checkpoint)
    b = Predictor.load(tiny_checkpoint)
    x = a.preprocess([s.image for s in small_samples[:3]])
    with torch.no_grad():
        assert torch.equal(a.model(x)["seg_logits"], b.model(x)["seg_logits"])
    fresh = build_model(cfg.model).eval()
    with torch.no_grad():
        assert not torch.equal(a.model(x)["seg_logits"], fresh(x)["seg_logits"])


def test_finetune_with_replay_progress_and_cancel(tiny_checkpoint, small_samples, tmp_path):
    steps = []
    meta = finetune(tiny_checkpoint, small_samples[:6], small_samples[6:30], tmp_path / "ft", epochs=1,
                    callbacks=[FunctionCallback(on_step=lambda p: steps.append((p.step, p.total_steps)))],
                    val_samples=small_samples[36:], log=lambda s: None)
    assert meta["train"]["mode"] == "finetune" and meta["train"]["parent"] == str(tiny_checkpoint)
    assert meta["train"]["n_train"] == 12          # 6 new + 6 replay (replay_ratio 1.0)
    assert steps and steps[-1][0] == steps[-1][1]
    before = Predictor.load(tiny_checkpoint).model.state_dict()
    after = Predictor.load(tmp_path / "ft").model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point())
    with pytest.raises(TrainingCancelled):
        finetune(tiny_checkpoint, small_samples[:6], small_samples[6:30], tmp_path / "ft2", epochs=2,
                 callbacks=[FunctionCallback(should_stop=lambda: True)], log=lambda s: None)
    assert not (tmp_path / "ft2" / "model.safetensors").exists()


def test_finetune_steps_are_exact_and_norms_and_averaging_apply(tiny_checkpoint, small_samples, tmp_path):
    # 12 mixed samples in batches of 8 are one step per epoch: the old contract ran at least 3 epochs, and
    # whole epochs; now ``steps`` is exactly that many optimiser steps, as for the other kinds
    seen = []
    meta = finetune(tiny_checkpoint, small_samples[:6], small_samples[6:30], tmp_path / "ft", steps=5,
                    callbacks=[FunctionCallback(on_step=lambda p: seen.append(p.step))], freeze_norm=True,
                    alpha=0.5, val_samples=small_samples[36:], log=lambda s: None)
    assert meta["train"]["steps"] == 5 and seen[-1] == 5
    assert meta["train"]["freeze_norm"] and meta["train"]["alpha"] == 0.5
    before = Predictor.load(tiny_checkpoint).model.state_dict()
    after = Predictor.load(tmp_path / "ft").model.state_dict()
    # frozen batch norm: the champion's running statistics, untouched by the corrections' batches
    stats = [k for k in before if k.endswith(("running_mean", "running_var"))]
    assert stats and all(torch.equal(before[k], after[k]) for k in stats)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.endswith(".weight"))


def test_finetune_trains_only_the_chosen_layers(tiny_checkpoint, small_samples, tmp_path):
    meta = finetune(tiny_checkpoint, small_samples[:6], small_samples[6:30], tmp_path / "ft", steps=3,
                    trainable="decoder", alpha=1.0, val_samples=small_samples[36:], log=lambda s: None)
    assert meta["train"]["trainable"] == "decoder"
    before = Predictor.load(tiny_checkpoint).model.state_dict()
    after = Predictor.load(tmp_path / "ft").model.state_dict()
    moved = {k for k in before if before[k].is_floating_point() and not torch.equal(before[k], after[k])}
    assert moved and all(k.startswith(("lat.", "smooth.", "head.")) for k in moved)
    assert not any(k.startswith(("stem.", "enc")) for k in moved)
    with pytest.raises(ValueError, match="trainable"):
        finetune(tiny_checkpoint, small_samples[:6], [], tmp_path / "ft2", steps=1, trainable="neck",
                 log=lambda s: None)


def test_finetune_mines_hard_negatives_on_the_new_ok_shots_only(tiny_checkpoint, small_samples, tmp_path):
    new = small_samples[:6]
    meta = finetune(tiny_checkpoint, new, small_samples[6:30], tmp_path / "ft", steps=2, hard_negatives=True,
                    val_samples=small_samples[36:], log=lambda s: None)
    assert meta["train"]["hard_negatives"] == sum(not s.is_defect for s in new) > 0
    off = finetune(tiny_checkpoint, new, small_samples[6:30], tmp_path / "ft0", steps=2, hard_negatives=False,
                   val_samples=small_samples[36:], log=lambda s: None)
    assert off["train"]["hard_negatives"] == 0
