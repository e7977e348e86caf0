"""The fine-tuning helpers: frozen batch-norm statistics, WiSE-FT weight averaging, the choice of alpha."""
import pytest
import torch
from torch import nn

from ml.common.finetuning import choose_alpha, freeze_norm_statistics, interpolate


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.LazyLinear(1))


def test_frozen_norms_keep_their_statistics_while_the_rest_trains():
    net = _net()
    net(torch.randn(2, 1, 8, 8))   # materialise the lazy layer
    bn = net[1]
    mean = bn.running_mean.clone()
    assert freeze_norm_statistics(net) == 1
    net.train()
    assert net.training and not bn.training
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    net(torch.randn(4, 1, 8, 8) * 5 + 3).sum().backward()
    opt.step()
    assert torch.equal(bn.running_mean, mean) and bn.weight.grad is not None
    # without freezing, the same batch moves the statistics
    other = _net()
    other(torch.randn(2, 1, 8, 8))
    before = other[1].running_mean.clone()
    other.train()
    other(torch.randn(4, 1, 8, 8) * 5 + 3)
    assert not torch.equal(other[1].running_mean, before)


def test_interpolation_between_champion_and_fine_tuned_weights():
    a = {"w": torch.zeros(3), "n": torch.tensor(1)}
    b = {"w": torch.ones(3) * 2, "n": torch.tensor(7)}
    assert torch.equal(interpolate(a, b, 0.0)["w"], a["w"]) and torch.equal(interpolate(a, b, 1.0)["w"], b["w"])
    half = interpolate(a, b, 0.5)
    assert torch.allclose(half["w"], torch.ones(3)) and int(half["n"]) == 7   # counters from the tuned side
    with pytest.raises(ValueError, match="different tensors"):
        interpolate(a, {"w": b["w"]}, 0.5)
    with pytest.raises(ValueError, match="shape"):
        interpolate(a, {"w": torch.ones(2), "n": b["n"]}, 0.5)


def test_alpha_chosen_by_score_and_ties_go_to_the_champion_side():
    best, scores = choose_alpha(lambda a: 1 - abs(a - 0.5))
    assert best == 0.5 and len(scores) == 5
    assert choose_alpha(lambda a: 1.0)[0] == 0.0


def test_blend_loads_the_average_and_refuses_an_alpha_outside_0_1():
    from ml.common.finetuning import blend, snapshot

    net = _net()
    net(torch.randn(2, 1, 8, 8))
    before = snapshot(net)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    blend(net, before, 0.25)
    assert torch.allclose(net[0].weight, before["0.weight"] + 0.25)
    with pytest.raises(ValueError, match="alpha"):
        blend(net, before, 1.5)
