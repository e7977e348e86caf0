"""ml.common.config (configs back from JSON) and ml.common.schedule (budget, warm-up and cosine)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import pytest
import torch

from ml.common.config import DictConfig, config_from_dict
from ml.common.schedule import TimeBudget, WarmupCosine, warmup_cosine


@dataclass(frozen=True)
class Inner:
    widths: tuple[int, ...] = (1, 2)
    grid: tuple[tuple[int, int], ...] = ((1, 2),)
    rate: float = 0.5


@dataclass
class Outer(DictConfig):
    name: str = "x"
    inner: Inner = field(default_factory=Inner)
    maybe: int | None = None


def test_nested_dataclasses_and_tuples_come_back_from_json():
    cfg = Outer(name="y", inner=Inner(widths=(3, 4, 5), grid=((7, 8),), rate=0.25), maybe=4)
    back = Outer.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg and isinstance(back.inner, Inner) and back.inner.widths == (3, 4, 5)
    assert back.inner.grid == ((7, 8),)


def test_unknown_keys_are_ignored_and_missing_keys_take_defaults():
    back = config_from_dict(Outer, {"inner": {"rate": 0.1, "gone": 1}, "removed_field": True})
    assert back == Outer(inner=Inner(rate=0.1))
    assert config_from_dict(Outer, None) == Outer()


def test_warmup_then_cosine():
    f = lambda p: warmup_cosine(p, warmup=0.1, start=0.1, floor=0.02)
    assert f(0.0) == pytest.approx(0.1) and f(0.05) == pytest.approx(0.55) and f(0.1) == pytest.approx(1.0)
    assert f(0.55) == pytest.approx(0.02 + 0.98 * 0.5) and f(1.0) == pytest.approx(0.02) and f(3.0) == f(1.0)
    assert warmup_cosine(0.0, warmup=0.0, start=1.0, floor=0.05) == pytest.approx(1.0)


def test_schedule_follows_steps_or_the_spent_budget_whichever_is_further():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = WarmupCosine(opt, 2.0, total_steps=100, warmup=0.0, start=1.0, floor=0.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(2.0)
    for _ in range(50):
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0)          # half-way down the cosine
    budget = TimeBudget(0.05)
    sched = WarmupCosine(opt, 2.0, total_steps=1000, budget=budget, warmup=0.0, start=1.0, floor=0.0)
    time.sleep(0.06)
    sched.step()                                                      # 1 step of 1000, but the time is up
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-9)
    assert budget.should_stop() and budget.hit
    assert not TimeBudget(0).should_stop()                            # 0: no budget
