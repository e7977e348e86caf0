"""The one contract of the kinds' ml packages (see ml/__init__.py): the same names and parameters for the
config preset and its JSON form, train / finetune / evaluate, and the loop's recipes; the schedule and
time budget come from ml.common."""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import json

import pytest

from ml.common import schedule

KINDS = ("catheter", "articles", "omr")


def _params(fn) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(fn).parameters)


def _positional(fn) -> list[str]:
    return [n for n, p in _params(fn).items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]


def _keyword_only(fn) -> set[str]:
    return {n for n, p in _params(fn).items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


@pytest.mark.parametrize("kind", KINDS)
def test_config_preset_and_json_round_trip(kind):
    config = importlib.import_module(f"ml.{kind}.config")
    for size in ("cpu", "gpu", "tiny"):
        cfg = config.preset(size)
        assert dataclasses.is_dataclass(cfg) and cfg.size == size
        data = json.loads(json.dumps(cfg.to_dict()))          # as a checkpoint stores it
        assert type(cfg).from_dict(data) == cfg
    with pytest.raises(ValueError, match="unknown size preset"):
        config.preset("huge")


@pytest.mark.parametrize("kind", KINDS)
def test_training_train_finetune_and_evaluation_evaluate(kind):
    training = importlib.import_module(f"ml.{kind}.training")
    evaluation = importlib.import_module(f"ml.{kind}.evaluation")
    assert _positional(training.train)[:2] == ["samples", "out"]
    assert {"config", "callbacks", "device", "log"} <= _keyword_only(training.train)
    assert _positional(training.finetune)[:4] == ["from_checkpoint", "samples", "replay_samples", "out"]
    assert {"steps", "callbacks", "device", "log", "freeze_norm", "alpha"} <= _keyword_only(training.finetune)
    evaluate = evaluation.evaluate
    assert _positional(evaluate)[:2] == ["checkpoint", "samples"] and "device" in _params(evaluate)


@pytest.mark.parametrize("kind", KINDS)
def test_recipes(kind):
    recipes = importlib.import_module(f"ml.{kind}.recipes")
    assert _positional(recipes.bootstrap) == ["out"]
    assert {"size", "budget_s", "device", "callbacks", "log"} <= _keyword_only(recipes.bootstrap)
    assert _positional(recipes.generated_samples) == ["n"]
    assert {"seed", "size"} <= _keyword_only(recipes.generated_samples)


@pytest.mark.parametrize("kind", ("catheter", "articles"))
def test_trainings_share_the_schedule_and_budget(kind):
    training = importlib.import_module(f"ml.{kind}.training")
    assert training.WarmupCosine is schedule.WarmupCosine and training.TimeBudget is schedule.TimeBudget
    source = inspect.getsource(training)
    assert "LambdaLR" not in source and "math.cos" not in source


def test_omr_training_shares_the_schedule():
    training = importlib.import_module("ml.omr.training")
    assert training.WarmupCosine is schedule.WarmupCosine
    assert "CosineAnnealingLR" not in inspect.getsource(training)


def test_generated_samples_of_the_catheter_recipe():
    from ml.catheter.recipes import generated_samples

    samples = generated_samples(5, seed=3, size="tiny")
    assert len(samples) == 5 and samples[0].image.shape[:2] == (128, 128)
    again = generated_samples(5, seed=3, size="tiny")
    assert all((a.image == b.image).all() for a, b in zip(samples, again))   # deterministic for the seed
