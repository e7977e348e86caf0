"""The label-quality simulation's quick mode end to end: web server and both workers, driven through the public
API only, with the shipped catheter model. The careless operator here flips every verdict, so that the
control scores and the training sets it leads to are known: every careless control answer scores 0, every
careful one 1, and the project that holds suspects out trains on exactly the answers not under re-review."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_suspect_label_quick_run_scores_controls_and_trains_without_the_suspects(tmp_path):
    done = subprocess.run([sys.executable, "bench/label_quality_sim.py", "--kind", "catheter", "--quick",
                           "--seed", "3", "--noise", "1.0", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert (result["kind"], result["seed"], result["items"], result["model_size"]) == ("catheter", 3, 8, "cpu")
    items = json.loads((tmp_path / "label_quality_sim_catheter_seed3_quick_items.json").read_text())
    records = items["records"]
    assert len(records) == 8 and len({r["item"] for r in records}) == 8
    careless = [r for r in records if r["operator"] == "op-careless"]
    assert careless and all(r["errors"] == 1 and r["answer"]["verdict"] != r["truth"]["verdict"] for r in careless)
    assert all(r["errors"] == 0 and r["answer"] == r["truth"] for r in records if r not in careless)
    assert result["items_with_errors"] == len(careless)
    # the figures are the records' own: what the suspect queue holds, what review by risk routed
    flagged = set(items["flagged"])
    assert result["caught"] == sum(1 for r in careless if r["item"] in flagged)
    assert result["routed_to_review"] == sum(1 for r in records if r["reviewed"])
    # control answers as the API scored them: the careless operator's flipped verdicts score 0
    for name, accuracy in result["control_accuracy"].items():
        assert accuracy == [0.0 if name == "op-careless" else 1.0] * len(accuracy), (name, accuracy)
    # both fine-tunes ran on the golden set; the held project left its open suspects out of training
    tunes = result["fine_tunes"]
    assert tunes["suspects_excluded"]["golden_items"] == tunes["everything"]["golden_items"] == 4
    assert tunes["everything"]["suspects_in_its_project"] == 0
    assert tunes["everything"]["n_new"] == 8
    assert tunes["suspects_excluded"]["n_new"] == 8 - len(flagged)
    assert any(line.startswith("  suspect queue caught") for line in lines)
    assert Path(result["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
