import json
from pathlib import Path

from ml.omr.__main__ import main


def test_render_degrade_align_transfer(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["render", "--piece", "bach/bwv66.6", "--dpi", "150", "--out", str(out)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pages"] == ["page001.png"] and info["symbols"] > 400
    for name in ("page001.png", "page001.json", "deepscores.json", "coco.json"):
        assert (out / name).exists()
    assert main(["degrade", str(out / "page001.png"), "--seed", "3", "--out", str(tmp_path / "d")]) == 0
    deg = json.loads(capsys.readouterr().out)
    assert len(deg["homography"]) == 3
    assert main(["align", str(out / "page001.png"), deg["photo"], "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res) >= {"homography", "metrics", "verdict", "reasons"} and res["verdict"] == "accept"
    assert len(res["homography"]) == 3 and all(len(r) == 3 for r in res["homography"])
    truth = json.loads((tmp_path / "d" / "page001.photo.json").read_text())["mapping"]["homography"]
    import numpy as np

    from ml.omr.degrade import apply_h

    corners = np.array([[0, 0], [1240, 0], [1240, 1754], [0, 1754]], float)
    assert np.abs(apply_h(np.asarray(res["homography"]), corners) - apply_h(np.asarray(truth), corners)).max() < 3
    # operator points
    pairs = [[c.tolist(), p.tolist()] for c, p in zip(corners * 0.8 + 100, apply_h(np.asarray(truth), corners * 0.8 + 100))]
    (tmp_path / "pts.json").write_text(json.dumps(pairs))
    assert main(["align", str(out / "page001.png"), deg["photo"], "--points", str(tmp_path / "pts.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "points"
    ds2, coco = tmp_path / "photo.ds2.json", tmp_path / "photo.coco.json"
    assert main(["transfer", str(out / "page001.png"), deg["photo"], "--deepscores", str(ds2), "--coco", str(coco)]) == 0
    tr = json.loads(capsys.readouterr().out)
    assert tr["report"]["ink_share"] > 0.95
    photo_ds2, photo_coco = json.loads(ds2.read_text()), json.loads(coco.read_text())   # the photo-side boxes
    assert photo_ds2["images"][0]["filename"] == Path(deg["photo"]).name and len(photo_ds2["annotations"]) > 300
    names = {photo_ds2["categories"][a["cat_id"][0]]["name"] for a in photo_ds2["annotations"].values()}
    assert {"noteheadBlackOnLine", "noteheadBlackInSpace"} <= names
    assert len(photo_coco["annotations"]) == len(photo_ds2["annotations"]) and len(photo_coco["categories"]) == 136


def test_bad_input_gives_clear_errors(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit) as e:
        main(["align", str(tmp_path / "missing.png"), str(tmp_path / "x.png"), "--json"])
    assert "no such image" in str(e.value)
    assert main(["render", "--piece", "no/such/piece_xyz", "--out", str(tmp_path / "o")]) == 2
    assert "error" in capsys.readouterr().err


def _write_data_dir(folder, page):
    """A folder in bench/make_omr_data.py's format: grey PNG + JSON {kind, font, piece, page, symbols}."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / "r00000.png"), page.image)
    (folder / "r00000.json").write_text(json.dumps({"kind": "render", "font": page.font, "piece": page.piece,
                                                    "page": page.page, "symbols": [s.to_dict() for s in page.symbols]}))


def test_detector_commands_from_a_data_folder_without_the_renderer(tmp_path, bach_page):
    """train-detector / evaluate / detect on pre-rendered pages, in a fresh interpreter where music21,
    verovio, cairosvg and PIL cannot be imported (as on a GPU machine that has only torch and OpenCV)."""
    import subprocess
    import sys
    from pathlib import Path

    ROOT = Path(__file__).resolve().parents[3]
    data = tmp_path / "data"
    _write_data_dir(data, bach_page)
    ck = tmp_path / "ck"
    script = f"""
import sys, json
for name in ("music21", "verovio", "cairosvg", "PIL"):
    sys.modules[name] = None
from ml.omr.__main__ import main
assert main(["train-detector", "--data", "{data}", "--photos", "1", "--size", "cpu", "--steps", "1,1,1,1,2",
             "--out", "{ck}", "--device", "cpu"]) == 0
assert main(["evaluate", "{ck}", "--data", "{data}", "--out", "{tmp_path / 'ev.json'}", "--per-class",
             "--device", "cpu"]) == 0
assert main(["detect", "{ck}", "{data / 'r00000.png'}", "--json", "--device", "cpu"]) == 0
"""
    res = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr[-3000:]
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    train, evaluation, detection = (json.loads(ln) for ln in lines[-3:])
    assert train["train_samples"] == 2 and train["steps_run"] == [1, 1, 1, 1, 2]
    assert "kind:render" in evaluation["slices"] and evaluation["overall"]["images"] == 1
    assert {"symbols", "width", "height"} <= set(detection) and detection["width"] == bach_page.image.shape[1]
    report = json.loads((tmp_path / "ev.json").read_text())
    assert set(report["per_class"]) and report["frequent_classes"]
