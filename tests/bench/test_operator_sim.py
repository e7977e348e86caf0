"""The operator simulation's quick mode end to end: it starts the web server and both workers, drives them
through the public API only, and ends its output with the summary other tools read. On the embedded
default, or on PostgreSQL and Redis where DATABASE_URL / REDIS_URL say so (the run takes a private database
and key prefix of its own)."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_quick_catheter_run_streams_both_arms_and_trains_from_the_corrections(tmp_path):
    done = subprocess.run([sys.executable, "bench/operator_sim.py", "--kind", "catheter", "--quick", "--seed", "3",
                           "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert (result["kind"], result["seed"], result["items"]) == ("catheter", 3, 6)
    # two blocks of three, each with edits counted on both projects from the review diff
    assert result["blocks"] == ["1-3", "4-6"]
    assert len(result["edits_per_item_loop"]) == len(result["edits_per_item_frozen"]) == 2
    assert all(isinstance(v, (int, float)) and v >= 0 for v in
               result["edits_per_item_loop"] + result["edits_per_item_frozen"])
    # the first proposals come from the one model both projects start from
    assert result["proposed_by"][0] == "global v1 x3"
    # the trigger set through the API (every 3 accepted corrections) started a run that trained a candidate
    trained = [r for r in result["runs"] if r["trigger"] == "corrections"]
    assert trained and trained[0]["state"] == "succeeded" and trained[0]["candidate"], result["runs"]
    # the block table was printed before the summary
    assert any(line.strip().startswith("1-3 |") for line in lines[:-1])
    png = Path(result["png"])
    assert png.parent == tmp_path and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a run that went through leaves no folder behind (database, media, models: hundreds of MB on a full run)
    work = re.search(r"logs in (\S+)\)", done.stderr).group(1)
    assert not Path(work).exists()
