import json

import numpy as np

from ml.catheter import DEFECT_TYPES
from ml.catheter.data import samples_from_series, validate_annotation
from ml.catheter.evaluation import evaluate
from ml.catheter.predict import Prediction, Predictor, series_annotation


def test_predictor_contract(tiny_checkpoint, small_samples):
    pred = Predictor.load(tiny_checkpoint)
    images = [s.image for s in small_samples[:5]]
    images.append(np.ascontiguousarray(images[0][:100, :120]))     # another size
    images.append(images[1][..., 0])                                # grayscale
    out = pred.predict(images, batch_size=3, saliency=True)
    assert len(out) == len(images) and all(isinstance(p, Prediction) for p in out)
    for im, p in zip(images, out):
        j = json.loads(json.dumps(p.to_json()))
        assert j["verdict"] in ("ok", "defect") and set(j["scores"]) == set(DEFECT_TYPES)
        assert 0 <= j["uncertainty"] <= 1 and isinstance(j["flagged"], bool) and j["entropy"] >= 0
        assert (j["verdict"] == "defect") == (p.score >= pred.verdict_threshold)
        h, w = im.shape[:2]
        for b in j["boxes"]:
            assert 0 <= b["x0"] < b["x1"] <= w and 0 <= b["y0"] < b["y1"] <= h and b["type"] in DEFECT_TYPES
        ann = p.to_annotation()
        validate_annotation(ann, n_shots=1)
        assert ann["verdict"] == p.verdict
        assert p.saliency.shape == (64, 64) and p.defect_map.shape == (4, 32, 32)
    # batching does not change results
    single = [pred.predict([im])[0] for im in images[:3]]
    for a, b in zip(single, out[:3]):
        assert abs(a.score - b.score) < 1e-5 and abs(a.entropy - b.entropy) < 1e-4
    series = series_annotation(out[:3])
    validate_annotation(series, n_shots=3)


def test_uncertainty_orders_by_distance_to_threshold(tiny_checkpoint, small_samples):
    pred = Predictor.load(tiny_checkpoint)
    out = pred.predict([s.image for s in small_samples[:16]])
    unflagged = [p for p in out if not p.flagged]
    d = [abs(np.log(p.score / (1 - p.score)) - np.log(pred.verdict_threshold / (1 - pred.verdict_threshold)))
         for p in unflagged]
    u = [p.uncertainty for p in unflagged]
    order = np.argsort(d)
    assert all(u[order[i]] >= u[order[i + 1]] - 1e-9 for i in range(len(order) - 1))


def test_series_samples_and_evaluate(tiny_checkpoint, small_samples, tmp_path):
    shots = small_samples[:3]
    ann = {"verdict": "defect" if any(s.is_defect for s in shots) else "ok",
           "shots": [{"defects": [{k: d[k] for k in ("type", "box")} for d in s.defects]} for s in shots]}
    made = samples_from_series([s.image for s in shots], ann)
    assert [m.labels.tolist() for m in made] == [s.labels.tolist() for s in shots]
    res = evaluate(tiny_checkpoint, small_samples[36:], plots_dir=tmp_path, adv_n=6, epsilons=(4,), pointing_n=6)
    json.dumps(res)
    assert res["n"] == 12 and set(res["by_type"]) == set(DEFECT_TYPES)
    per = res["per_sample"]   # one record per sample, consistent with the confusion counts
    assert len(per) == 12 and sum(r["label"] for r in per) == res["n_defective"]
    assert sum(r["predicted"] and r["label"] for r in per) == res["verdict"]["confusion"]["tp"]
    assert "4/255" in res["flag"]["fgsm"] and 0 <= res["flag"]["false_flag_rate_clean"] <= 1
    for k in ("pr_curve", "confusion", "saliency_0"):
        assert (tmp_path / f"{k}.png").exists()
