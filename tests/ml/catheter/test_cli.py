import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(*args, **env_extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **env_extra}
    r = subprocess.run([sys.executable, "-m", "ml.catheter", *args], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def test_command_line_end_to_end(tmp_path):
    data, ckpt, plots, sal = tmp_path / "data", tmp_path / "ckpt", tmp_path / "plots", tmp_path / "sal"
    _run("synth", "--out", str(data), "--n", "24", "--seed", "3", "--size", "128", "--defect-rate", "0.5",
         "--series-len", "2")
    assert len(list((data / "images").glob("*.png"))) == 24
    out = json.loads(_run("train", "--data", str(data), "--out", str(ckpt), "--preset", "tiny", "--epochs", "1",
                          "--flag-objective", "map").strip().splitlines()[-1])
    assert (ckpt / "model.safetensors").exists() and "verdict" in out["thresholds"]
    images = sorted((data / "images").glob("*.png"))[:3]
    lines = _run("predict", str(ckpt), *map(str, images), "--json", "--saliency", str(sal)).strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        rec = json.loads(line)
        assert rec["verdict"] in ("ok", "defect") and set(rec["scores"]) >= {"axial_scratch", "bubble"}
        assert isinstance(rec["boxes"], list) and "entropy" in rec and isinstance(rec["flagged"], bool)
        assert Path(rec["saliency_png"]).exists()
    res = json.loads(_run("evaluate", str(ckpt), "--data", str(data), "--json", "--plots", str(plots),
                          "--adv-n", "4", "--pointing-n", "4", "--limit", "8"))
    assert res["n"] == 8 and "recall_at_precision_0.90" in res["verdict"] and "pointing_game" in res
    assert (plots / "pr_curve.png").exists() and (plots / "confusion.png").exists()
    # without --plots the plots go to a new temporary folder (here under TMPDIR), never into the checkpoint
    before = sorted(p.name for p in ckpt.iterdir())
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    res = json.loads(_run("evaluate", str(ckpt), "--data", str(data), "--json", "--adv-n", "2", "--pointing-n", "2",
                          "--limit", "4", TMPDIR=str(tmp)))
    assert sorted(p.name for p in ckpt.iterdir()) == before
    assert Path(res["plots"]["pr_curve"]).parent.parent == tmp and Path(res["plots"]["pr_curve"]).exists()
