"""The OMR adapter on the demo's chorale pairs: proposals in original pixels that pass the omr validator,
the verdicts of the hard cases, the original's symbols moved onto the photo, and detector samples from an
accepted alignment whose boxes sit where the truth puts them."""
import json

import numpy as np
import pytest

from ml.omr.align import apply_h
from ml.omr.predict import Predictor
from webapp.labeling.kinds import get_kind
from webapp.labeling.selectors import item_asset_dims
from workers.adapters import get_adapter
from workers.adapters.omr import platform_reasons, to_original_pixels
from workers.itemdata import load_items

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
MODERATE, CURL, WRONG = 0, 2, 6   # indices in ml.omr.demo.KIND_CYCLE


def test_scaling_between_working_copies_and_originals():
    h_work = np.array([[0.9, 0.05, 12.0], [-0.04, 0.95, 30.0], [1e-5, 2e-5, 1.0]])
    h = to_original_pixels(h_work, (0.5, 0.5), (0.25, 0.4))
    p = np.array([[100.0, 200.0], [900.0, 1500.0]])
    expected = apply_h(h_work, p * 0.5) / [0.25, 0.4]
    assert np.allclose(apply_h(h, p), expected)


def test_reasons_the_format_does_not_name_become_other():
    assert platform_reasons("review", ["page curl", "system shifted"]) == ["page curl"]
    assert platform_reasons("review", ["low coverage"]) == ["other"]
    assert platform_reasons("accept", []) == []


def test_proposals_on_chorale_pairs(make_project, omr_items):
    adapter = get_adapter("omr")
    project = make_project("omr")
    made = omr_items(project, [MODERATE, WRONG, CURL])
    items = load_items([item.pk for item, _, _ in made], mode=adapter.image_mode)
    assert len(items) == 3
    proposals = adapter.predict(Predictor.load(None, device="cpu"), items, batch_size=4)
    spec = get_kind("omr")
    for item, proposal in zip(items, proposals):
        spec.validate(proposal.annotation, item_asset_dims(item_id=item.item_id))
        assert 0.0 <= proposal.uncertainty <= 1.0
        json.dumps(proposal.scores)   # stored as JSON: plain numbers only
    good, wrong, curl = proposals

    assert good.annotation["status"] == "accepted" and good.scores["verdict"] == "accept", good.scores["reasons"]
    pair = made[0][2]
    # error where the music is (a chorale fills half the page: the blank half's corners are extrapolated)
    centres = np.array([[(s.bbox[0] + s.bbox[2]) / 2, (s.bbox[1] + s.bbox[3]) / 2] for s in pair.original.symbols])
    error = np.linalg.norm(apply_h(np.asarray(good.annotation["homography"]), centres)
                           - pair.mapping.page_to_photo(centres), axis=1).max()
    assert error < 1.5, f"symbol error {error:.2f} px in original pixels"
    assert len(good.scores["matches"]) > 20 and len(good.scores["symbols"]) > 0.95 * len(pair.original.symbols)
    truth_boxes = [pair.mapping.page_to_photo(np.array([[s.bbox[0], s.bbox[1]], [s.bbox[2], s.bbox[3]]]))
                   for s in pair.original.symbols[:50]]
    moved = [np.array(s["bbox"]).reshape(2, 2) for s in good.scores["symbols"][:50]]
    assert np.median([np.abs(m - t).max() for m, t in zip(moved, truth_boxes)]) < 3.0

    assert wrong.annotation["status"] == "rejected" and "wrong page" in wrong.annotation["reasons"]
    assert "symbols" not in wrong.scores
    assert curl.scores["verdict"] == "review" and "page curl" in curl.annotation["reasons"]
    assert curl.uncertainty > good.uncertainty   # doubtful alignments come first in the queue


def test_samples_from_accepted_alignments(make_project, omr_items):
    adapter = get_adapter("omr")
    project = make_project("omr")
    made = omr_items(project, [MODERATE, WRONG])
    items = load_items([item.pk for item, _, _ in made], mode=adapter.image_mode)
    for loaded, (_, truth, _) in zip(items, made):
        loaded.annotation = truth
    samples = adapter.samples(items)
    assert len(samples) == 1   # the wrong page gives no ground truth
    sample, pair = samples[0], made[0][2]
    photo_scale = items[0].scales()[1]
    assert sample.image.shape == items[0].images[1].shape
    assert len(sample.symbols) > 0.95 * len(pair.original.symbols)
    first = pair.original.symbols[0].bbox
    expected = pair.mapping.page_to_photo(np.array([[first[0], first[1]]]))[0] * photo_scale
    assert np.abs(np.array(sample.symbols[0]["bbox"][:2]) - expected).max() < 2.0


def test_detector_bootstrap_finetune_and_gate_figures(make_project, omr_items, tmp_path):
    adapter = get_adapter("omr")
    project = make_project("omr")
    made = omr_items(project, [MODERATE, WRONG])
    logs = []
    first = tmp_path / "first"
    adapter.bootstrap(out_dir=first, scope_key="", size="tiny", budget_s=0, callbacks=[], log=logs.append)
    assert (first / "model.safetensors").exists()
    predictor = adapter.load(first, "cpu")
    items = load_items([item.pk for item, _, _ in made], mode=adapter.image_mode)
    proposals = adapter.predict(predictor, items, batch_size=2)   # the detector does not run on a CPU
    assert [p.scores["verdict"] for p in proposals] == ["accept", "reject"]
    assert all("detections" not in p.scores for p in proposals)

    for loaded, (_, truth, _) in zip(items, made):
        loaded.annotation = truth
    samples = adapter.samples(items)
    tuned = tmp_path / "tuned"
    adapter.finetune(base_dir=first, new=samples, replay=adapter.synthetic_samples(1, 5, "", "tiny"), out_dir=tuned,
                     steps=2, callbacks=[], log=logs.append)
    figures = adapter.evaluate(tuned, samples, "cpu").to_json()
    assert figures["primary"] == "score" and figures["overall"]["pages"] == 1
    assert any(name.startswith("class:") for name in figures["slices"])
    for values in figures["slices"].values():
        assert "score" in values
