"""End to end through the command line with a tiny model (seconds, not a quality check)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from formats.articles.pagexml import from_page_xml
from ml.articles.data import Sample, load_dir
from ml.articles.predict import Predictor
from ml.articles.training import finetune
from ml.common.trainer import FunctionCallback, TrainingCancelled

ROOT = Path(__file__).resolve().parents[3]


def _cli(*args, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "ml.articles", *map(str, args)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(r.stderr[-3000:])
    return r


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    r = _cli("synth", "--out", d, "--publishers", "5", "--pages", "12", "--seed", "3", "--work-width", "128",
             "--non-article-share", "0.3", "--no-full")
    info = json.loads(r.stdout)
    assert info["pages"] == 12
    return d


@pytest.fixture(scope="module")
def ckpt(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "global"
    r = _cli("train", "--data", data, "--out", out, "--size", "tiny", "--steps", "3")
    info = json.loads(r.stdout)
    assert info["steps"] == 3
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()
    assert (out / "page_filter.safetensors").exists()
    return out


def test_segment_json_in_input_pixels(ckpt, data, tmp_path):
    work = cv2.imread(str(data / "work" / "p00000.png"), cv2.IMREAD_GRAYSCALE)
    big = cv2.resize(work, (work.shape[1] * 3, work.shape[0] * 3))
    page = tmp_path / "page.png"
    cv2.imwrite(str(page), big)
    xml = tmp_path / "page.xml"
    r = _cli("segment", ckpt, page, "--json", "--tau", "0.05", "--page-xml", xml)
    out = json.loads(r.stdout)
    assert out["page_type"] in ("article", "ads", "tv", "shares", "sports", "other")
    assert (out["width"], out["height"]) == (big.shape[1], big.shape[0])
    assert 0.0 <= out["uncertainty"] <= 1.0
    for c in out["cuts"]:
        assert set(c) == {"x0", "y0", "x1", "y1", "score"}
        assert -1 <= c["x0"] <= big.shape[1] + 1 and -1 <= c["y1"] <= big.shape[0] + 1
    for a in out["articles"]:
        assert 0 <= a["score"] <= 1 and len(a["polygon"]) >= 3
    ann, w, h = from_page_xml(xml.read_text())
    assert (w, h) == (big.shape[1], big.shape[0]) and len(ann["cuts"]) == len(out["cuts"])
    assert _cli("segment", ckpt, tmp_path / "missing.png", check=False).returncode == 2


def test_evaluate_json_and_plots(ckpt, data, tmp_path):
    r = _cli("evaluate", ckpt, "--data", data, "--json", "--plots", tmp_path / "plots")
    res = json.loads(r.stdout)
    assert "overall" in res and "per_publisher" in res and "page_filter" in res
    assert set(res["overall"]["cut"]) >= {"precision", "recall", "f1"}
    assert "_all" in res["tau_at_precision"]
    for p in res["plots"]:
        assert Path(p).stat().st_size > 1000


def test_evaluate_per_scan_level_with_plot(ckpt, tmp_path):
    r = _cli("evaluate", ckpt, "--scan-levels", "clean,realistic", "--pages", "2", "--width", "160",
             "--publisher", "daily-courier", "--json", "--plots", tmp_path / "plots")
    res = json.loads(r.stdout)
    assert list(res["by_level"]) == ["clean", "realistic"]
    assert res["by_level"]["realistic"]["strength"] == 1.0
    for lv in res["by_level"].values():
        assert 0.0 <= lv["cut"]["f1"] <= 1.0 and lv["edits_mean"] >= 0
    assert Path(res["plot"]).stat().st_size > 1000
    r = _cli("evaluate", ckpt, "--scan-levels", "clean", "--pages", "1", "--width", "160", "--no-deskew",
             "--no-flatten", "--json")
    assert json.loads(r.stdout)["post"] == {"flatten": False, "deskew": False}
    assert _cli("evaluate", ckpt, "--scan-levels", "grimy", check=False).returncode == 2


def test_synth_scan_level_maps_ground_truth(tmp_path):
    _cli("synth", "--out", tmp_path, "--publisher", "evening-post", "--pages", "2", "--seed", "4", "--work-width",
         "128", "--no-full", "--non-article-share", "0", "--scan", "realistic")
    s = load_dir(tmp_path)[0]
    assert s.meta["scan"]["strength"] == 1.0 and s.annotation["cuts"]
    assert any(c["x0"] != c["x1"] and c["y0"] != c["y1"] for c in s.annotation["cuts"])   # skewed, not axis-parallel


def test_finetune_cli_and_api_with_callbacks(ckpt, data, tmp_path):
    out = tmp_path / "ft"
    r = _cli("finetune", "--from", ckpt, "--data", data, "--publisher", "daily-courier", "--out", out,
             "--steps", "2", "--replay", data)
    info = json.loads(r.stdout)
    assert info["publisher"] == "daily-courier" and info["replay_pages"] > 0
    assert (out / "page_filter.json").exists()
    pred = Predictor.load(out)
    assert "daily-courier" in pred.thresholds
    # in-memory samples (as the worker builds them from corrected pages: no block info) + cancellation
    samples = load_dir(data, page_types=["article"])
    for s in samples:
        s.meta = {}
    seen = []
    cb = FunctionCallback(on_step=lambda p: seen.append(p.step), should_stop=lambda: len(seen) >= 1)
    with pytest.raises(TrainingCancelled):
        finetune(ckpt, samples[:2], samples[2:4], tmp_path / "ft2", steps=5, callbacks=[cb])
    assert seen == [1]


def test_predictor_batched_matches_single(ckpt, data):
    pred = Predictor.load(ckpt)
    imgs = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted((data / "work").glob("*.png"))[:3]]
    one = [pred.predict([im], tau=0.1)[0] for im in imgs]
    many = pred.predict(imgs, batch_size=3, tau=0.1)
    for a, b in zip(one, many):
        assert a.page_type == b.page_type and len(a.cuts) == len(b.cuts)
        ann = b.to_annotation()
        assert set(ann) == {"page_type", "cuts", "articles"}
    s = Sample(image=imgs[0], annotation={"page_type": "article", "cuts": [], "articles": []},
               original_size=(2480, 3508))
    p = pred.predict([s.image], original_sizes=[s.size], force_article=True, tau=0.01)[0]
    assert (p.width, p.height) == (2480, 3508)
    assert all(c["x1"] <= 2481 for c in p.cuts)
