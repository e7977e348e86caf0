import json

import numpy as np
import pytest

from ml.catheter import DEFECT_TYPES, SETUPS
from ml.catheter.config import SynthConfig
from ml.catheter.data import load_dir, validate_annotation
from ml.catheter.synth import generate_sample, generate_series, write_dataset


def test_deterministic_and_seed_dependent():
    a = generate_sample(5, 3, defective=True)
    b = generate_sample(5, 3, defective=True)
    c = generate_sample(6, 3, defective=True)
    assert a.image.shape == (512, 512, 3) and a.image.dtype == np.uint8   # at least 512 x 512 by default
    assert np.array_equal(a.image, b.image) and np.array_equal(a.instances, b.instances)
    assert a.annotation == b.annotation
    assert not np.array_equal(a.image, c.image)


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("kind", DEFECT_TYPES)
def test_masks_and_boxes_agree(setup, kind):
    cfg = SynthConfig(size=256)
    for i in range(2):
        shot = generate_sample(1, i, cfg, setup=setup, defective=True, defect_types=[kind])
        validate_annotation(shot.annotation, n_shots=1)
        assert shot.setup == setup
        defects = shot.defects
        assert [d["type"] for d in defects] == [kind]          # a single forced defect is always in view
        assert shot.instances.max() == len(defects)
        for k, d in enumerate(defects, start=1):
            ys, xs = np.nonzero(shot.instances == k)
            assert d["box"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            assert len(d.get("polygon") or d.get("polyline")) >= 2   # a hairline is a polyline


def test_axial_is_horizontal_and_radial_vertical():
    cfg = SynthConfig(size=512)
    for i in range(6):
        ax = generate_sample(2, i, cfg, defective=True, defect_types=["axial_scratch"]).defects[0]["box"]
        ra = generate_sample(3, i, cfg, defective=True, defect_types=["radial_scratch"]).defects[0]["box"]
        assert ax[2] - ax[0] > 2 * (ax[3] - ax[1])
        assert ra[3] - ra[1] > 1.5 * (ra[2] - ra[0])


def test_rotation_series_moves_defect_consistently_and_out_of_view():
    cfg = SynthConfig(size=256)
    shots = generate_series(4, 0, cfg, n_shots=12, defective=True, defect_types=["inclusion"])
    seen = [s.defects[0]["box"] if s.defects else None for s in shots]
    assert any(b is None for b in seen) and sum(b is not None for b in seen) >= 3
    # the visible shots form one cyclic run, in which the inclusion travels down the balloon at a fixed x
    k0 = next(k for k in range(12) if seen[k] is not None and seen[k - 1] is None)
    run = []
    for j in range(12):
        b = seen[(k0 + j) % 12]
        if b is None:
            break
        run.append(b)
    assert len(run) == sum(b is not None for b in seen)
    cy = [(b[1] + b[3]) / 2 for b in run]
    cx = [(b[0] + b[2]) / 2 for b in run]
    assert all(y1 > y0 for y0, y1 in zip(cy, cy[1:]))
    assert max(cx) - min(cx) <= 2
    # the scene (background, lamp) is the same for all shots: images differ only where the balloon turned
    diff = np.abs(shots[0].image.astype(int) - shots[1].image.astype(int)).mean()
    assert diff < 8


def test_defect_rate_knob():
    for rate, lo, hi, n in ((0.0, 0.0, 0.0, 20), (1.0, 1.0, 1.0, 30), (0.15, 0.05, 0.3, 80)):
        cfg = SynthConfig(size=256 if rate == 1.0 else 128, defect_rate=rate)
        frac = np.mean([bool(generate_sample(9, i, cfg).defects) for i in range(n)])
        assert lo <= frac <= hi, (rate, frac)


def test_unknown_setup_or_type_rejected():
    with pytest.raises(ValueError):
        generate_sample(0, 0, setup="sunny")
    with pytest.raises(ValueError):
        generate_sample(0, 0, defective=True, defect_types=["crack"])


def test_write_and_load_round_trip(tmp_path):
    cfg = SynthConfig(size=128, defect_rate=0.6, series_len=3)
    write_dataset(tmp_path, 7, 3, cfg)
    lines = [json.loads(x) for x in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert len(lines) == 7 and {r["shot"] for r in lines} == {0, 1, 2}
    samples = load_dir(tmp_path)
    again = generate_series(3, 0, cfg)
    for s, shot in zip(samples[:3], again):
        assert np.array_equal(s.image, shot.image) and np.array_equal(s.mask, shot.instances)
        assert s.annotation == shot.annotation
    for s in samples:   # type masks from instance masks lie inside the boxes
        tm = s.type_masks()
        for d in s.defects:
            x0, y0, x1, y1 = d["box"]
            m = tm[DEFECT_TYPES.index(d["type"])]
            assert m[y0:y1, x0:x1].any()
