import json

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
    assert main(["transfer", str(out / "page001.png"), deg["photo"]]) == 0
    tr = json.loads(capsys.readouterr().out)
    assert tr["report"]["ink_share"] > 0.95


def test_bad_input_gives_clear_errors(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit) as e:
        main(["align", str(tmp_path / "missing.png"), str(tmp_path / "x.png"), "--json"])
    assert "no such image" in str(e.value)
    assert main(["render", "--piece", "no/such/piece_xyz", "--out", str(tmp_path / "o")]) == 2
    assert "error" in capsys.readouterr().err
