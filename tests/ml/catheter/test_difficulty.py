import json

import numpy as np
import pytest

from ml.catheter import DEFECT_TYPES
from ml.catheter.__main__ import main
from ml.catheter.config import REALISM, CatheterConfig, SynthConfig
from ml.catheter.data import load_dir, validate_annotation
from ml.catheter.evaluation import recall_by_contrast
from ml.catheter.synth import generate_sample


@pytest.mark.parametrize("difficulty", ["realistic", "hard"])
def test_deterministic_and_masks_exact(difficulty):
    cfg = SynthConfig(size=256, difficulty=difficulty)
    for kind in DEFECT_TYPES:
        a = generate_sample(7, 1, cfg, defective=True, defect_types=[kind])
        b = generate_sample(7, 1, cfg, defective=True, defect_types=[kind])
        assert np.array_equal(a.image, b.image) and np.array_equal(a.instances, b.instances)
        assert a.annotation == b.annotation and a.contrasts == b.contrasts
        validate_annotation(a.annotation, n_shots=1)
        assert [d["type"] for d in a.defects] == [kind]   # still always in view in a single shot
        for k, d in enumerate(a.defects, start=1):
            ys, xs = np.nonzero(a.instances == k)
            assert d["box"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def test_difficulty_lowers_contrast_and_size():
    contrast, area = {}, {}
    for diff in ("easy", "realistic", "hard"):
        shots = [generate_sample(3, i, SynthConfig(size=256, difficulty=diff), defective=True) for i in range(16)]
        contrast[diff] = np.mean([s.contrast for s in shots if s.defects])
        area[diff] = np.mean([(s.instances > 0).sum() for s in shots])
    assert contrast["easy"] > contrast["realistic"] > contrast["hard"]
    assert area["easy"] > area["realistic"] > area["hard"]


def test_easy_is_the_clean_generator():
    """easy has every effect off; an effect switched on changes the photo but not its ground truth."""
    easy = generate_sample(5, 2, SynthConfig(size=128, difficulty="easy"), defective=True)
    same = generate_sample(5, 2, SynthConfig(size=128, difficulty="easy", overrides=(("decoys", 0.0),)),
                           defective=True)
    noisy = generate_sample(5, 2, SynthConfig(size=128, difficulty="easy", overrides=(("jpeg_quality", 40),
                                                                                        ("noise_scale", 2.0))),
                            defective=True)
    assert np.array_equal(easy.image, same.image)
    assert not np.array_equal(easy.image, noisy.image)
    assert easy.annotation == noisy.annotation and np.array_equal(easy.instances, noisy.instances)


def test_decoys_are_true_negatives():
    cfg = SynthConfig(size=256, difficulty="hard", overrides=(("decoys", 6.0),))
    off = SynthConfig(size=256, difficulty="hard", overrides=(("decoys", 0.0),))
    changed = 0
    for i in range(4):
        a, b = generate_sample(8, i, cfg, defective=False), generate_sample(8, i, off, defective=False)
        assert a.defects == [] and a.annotation["verdict"] == "ok" and a.instances.max() == 0
        changed += int(np.abs(a.image.astype(int) - b.image.astype(int)).max() > 20)
    assert changed >= 3   # the look-alikes are drawn, sharp enough to matter, and not annotated


def test_label_noise_drops_only_small_defects_from_annotation():
    clean = SynthConfig(size=256, difficulty="realistic")
    noisy = SynthConfig(size=256, difficulty="realistic", label_noise=1.0)
    dropped = 0
    for i in range(12):
        a = generate_sample(4, i, clean, defective=True, defect_types=["inclusion", "axial_scratch"])
        b = generate_sample(4, i, noisy, defective=True, defect_types=["inclusion", "axial_scratch"])
        assert np.array_equal(a.image, b.image)               # the photo still shows the defect
        validate_annotation(b.annotation, n_shots=1)
        assert b.instances.max() == len(b.defects)            # instance ids renumbered with the annotation
        for k, d in enumerate(b.defects, start=1):
            ys, xs = np.nonzero(b.instances == k)
            assert d["box"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        kept_types = [d["type"] for d in b.defects]
        assert "axial_scratch" in kept_types or not any(d["type"] == "axial_scratch" for d in a.defects) \
            or (a.instances == 1 + [d["type"] for d in a.defects].index("axial_scratch")).sum() < 80 * (256 / 512) ** 2
        dropped += b.unlabelled
        assert b.unlabelled == len(a.defects) - len(b.defects)
    assert dropped >= 3


def test_defect_under_the_highlight_is_brighter_around():
    base = SynthConfig(size=512, difficulty="realistic", overrides=(("near_highlight", 0.0),))
    near = SynthConfig(size=512, difficulty="realistic", overrides=(("near_highlight", 1.0),))
    brighter = 0
    for i in range(8):
        a = generate_sample(6, i, base, defective=True, setup="high_reflections", defect_types=["inclusion"])
        b = generate_sample(6, i, near, defective=True, setup="high_reflections", defect_types=["inclusion"])
        x0, y0, x1, y1 = b.defects[0]["box"]
        around = (slice(max(0, y0 - 6), y1 + 6), slice(max(0, x0 - 6), x1 + 6))
        brighter += int(b.image[around].mean() > a.image[around].mean() + 5)
    assert brighter >= 6


def test_bad_difficulty_or_parameter_rejected():
    with pytest.raises(ValueError, match="difficulty"):
        generate_sample(0, 0, SynthConfig(size=128, difficulty="brutal"))
    with pytest.raises(ValueError, match="realism parameter"):
        generate_sample(0, 0, SynthConfig(size=128, overrides=(("glare", 1.0),)))


def test_config_round_trip_keeps_difficulty():
    cfg = CatheterConfig(synth=SynthConfig(difficulty="hard", overrides=(("decoys", 1.0),), label_noise=0.1))
    back = CatheterConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back.synth == cfg.synth and back.synth.realism() == cfg.synth.realism()
    assert REALISM["easy"].contrast_scale == 1.0 and SynthConfig().difficulty == "realistic"


def test_cli_synth_writes_contrast(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path), "--n", "6", "--seed", "2", "--size", "128", "--defect-rate", "1",
                 "--difficulty", "hard", "--realism", "decoys=0", "--label-noise", "0"]) == 0
    rows = [json.loads(x) for x in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert all(r["contrast"] is None or r["contrast"] > 0 for r in rows)
    assert sum(r["contrast"] is not None for r in rows) >= 4
    assert json.loads((tmp_path / "synth_config.json").read_text())["realism"]["decoys"] == 0.0
    assert all(s.meta["contrast"] == r["contrast"] for s, r in zip(load_dir(tmp_path), rows))
    with pytest.raises(SystemExit):
        main(["synth", "--out", str(tmp_path), "--n", "1", "--realism", "decoys"])


def test_recall_by_contrast_bins():
    score = np.array([0.9, 0.2, 0.8, 0.7, 0.1, 0.95])
    labels = np.array([1, 1, 1, 1, 0, 1])
    contrast = np.array([2.0, 3.0, 10.0, 50.0, np.nan, 60.0])
    bins = recall_by_contrast(score, labels, contrast, t90=0.75, operating=0.5)
    assert [(b["lo"], b["n"]) for b in bins] == [(0.0, 2), (8.0, 1), (48.0, 2)] and bins[-1]["hi"] is None
    assert [b["recall_at_p90_threshold"] for b in bins] == [0.5, 1.0, 0.5]
    assert [b["recall_at_operating_threshold"] for b in bins] == [0.5, 1.0, 1.0]
