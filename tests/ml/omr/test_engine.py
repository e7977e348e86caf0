import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.common.trainer import FunctionCallback, TrainingCancelled
from ml.omr.config import preset
from ml.omr.data import Sample, sample_from_alignment, sample_from_page
from ml.omr.evaluation import evaluate
from ml.omr.predict import AlignmentPrediction, DetectionPrediction, Predictor
from ml.omr.training import finetune, train

TINY = dict(steps=(2, 2, 2, 2, 4), crop=64, batch_size=2, margin_width=48, rare_patches=4)


@pytest.fixture(scope="module")
def samples(bach_page, pair):
    s = pair(1000, "moderate")
    from ml.omr.transfer import map_boxes

    boxes = map_boxes(s.original.boxes(), s.mapping.page_to_photo)
    photo = Sample(s.photo, {}, [{"class": x.cls, "bbox": b.tolist()} for x, b in zip(s.original.symbols, boxes)],
                   {"kind": "moderate", "font": s.original.font})
    return [sample_from_page(bach_page), photo]


@pytest.fixture(scope="module")
def checkpoint(samples, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt")
    seen = []
    meta = train(samples, out, config=preset("cpu", **TINY), callbacks=[FunctionCallback(on_step=seen.append)],
                 seed=0, device="cpu")
    assert [p.step for p in seen] == list(range(1, 13)) and seen[-1].total_steps == 12
    assert meta["frequent_classes"][:2] == ["stem", "noteheadBlack"] or "stem" in meta["frequent_classes"]
    return out


def test_checkpoint_is_safetensors_and_json(checkpoint):
    files = {p.name for p in Path(checkpoint).iterdir()}
    assert {"model.safetensors", "config.json"} <= files
    conf = json.loads((Path(checkpoint) / "config.json").read_text())
    assert conf["detector"]["classes"] and conf["rare_classes"] is not None


def test_predict_and_evaluate(checkpoint, samples, pair):
    pred = Predictor.load(checkpoint, device="cpu")
    s = pair(1000, "moderate")
    out = pred.predict([samples[0].image, (s.original.image, s.photo)])
    assert isinstance(out[0], DetectionPrediction) and isinstance(out[1], AlignmentPrediction)
    assert 0.0 <= out[0].uncertainty <= 1.0 and "symbols" in out[0].to_json()
    ann = out[1].to_annotation()
    assert set(ann) == {"status", "homography", "point_pairs", "reasons"} and ann["status"] == "accepted"
    report = evaluate(checkpoint, samples, device="cpu")
    assert {"overall", "slices", "per_class"} <= set(report)
    assert "kind:render" in report["slices"] and "kind:moderate" in report["slices"]
    json.dumps(report)


def test_finetune_and_cancel(checkpoint, samples, tmp_path):
    meta = finetune(checkpoint, samples[:1], samples[1:], tmp_path / "ft", steps=3, device="cpu")
    assert meta["new_samples"] == 1 and (tmp_path / "ft" / "model.safetensors").exists()
    # alpha 0 keeps the champion's weights whatever the steps did (WiSE-FT's end point), norms frozen
    from safetensors.torch import load_file

    kept = finetune(checkpoint, samples[:1], samples[1:], tmp_path / "ft0", steps=3, device="cpu", freeze_norm=True,
                    alpha=0.0)
    assert kept["alpha"] == 0.0 and kept["freeze_norm"]
    a, b = load_file(str(checkpoint / "model.safetensors")), load_file(str(tmp_path / "ft0" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    stop = FunctionCallback(should_stop=lambda: True)
    with pytest.raises(TrainingCancelled):
        finetune(checkpoint, samples[:1], [], tmp_path / "ft2", steps=3, callbacks=[stop], device="cpu")


def test_time_budget_stops_the_schedule_and_keeps_the_model(samples, tmp_path):
    seen = []
    meta = train(samples[:1], tmp_path / "b", config=preset("tiny", steps=(50, 50, 50, 50, 50)), device="cpu",
                 callbacks=[FunctionCallback(on_step=seen.append)], time_budget_s=1e-3, use_margin=False)
    assert meta["history"][-1]["budget_stop"] and sum(meta["steps_run"]) == len(seen) == 1   # one step, then the budget
    assert (tmp_path / "b" / "model.safetensors").exists()


def test_sample_from_accepted_alignment(pair):
    s = pair(1000, "moderate")
    ann = {"status": "accepted", "homography": s.mapping.homography.tolist(), "point_pairs": [], "reasons": []}
    smp = sample_from_alignment([x.to_dict() for x in s.original.symbols], s.photo, ann)
    assert len(smp.symbols) == len(s.original.symbols)
    with pytest.raises(ValueError):
        sample_from_alignment([], s.photo, {**ann, "status": "rejected"})
    assert np.asarray(smp.symbols[0]["bbox"]).shape == (4,)


def test_bootstrap_recipe_trains_a_first_detector_from_generated_pages(tmp_path):
    from ml.omr.predict import Predictor
    from ml.omr.recipes import bootstrap

    lines = []
    meta = bootstrap(tmp_path / "first", size="tiny", budget_s=0, device="cpu", log=lines.append)
    assert meta["train_samples"] == 2 and sum(meta["steps_run"]) == 12   # one engraving + its photo; tiny schedule
    assert lines and "bootstrap" in lines[0]
    assert Predictor.load(tmp_path / "first", device="cpu").cfg.size == "tiny"
