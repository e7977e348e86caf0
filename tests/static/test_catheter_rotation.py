"""The catheter editor's copy to a neighbouring shot (static/js/editors/rotation.js), run by Node on the
generator's own rotation series: the copy lands where the balloon's turn puts the defect, not where it was."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ml.catheter.config import SynthConfig
from ml.catheter.synth import generate_series
from workers.demo_sources import catheter_rotation

MODULE = Path(__file__).resolve().parents[2] / "static" / "js" / "editors" / "rotation.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (make install brings it with npm)")


def run(script: str, data) -> object:
    """Runs ``script`` as an ES module with ``rotation`` imported and ``data`` bound; prints JSON back."""
    code = f"import * as rotation from {json.dumps(MODULE.as_uri())};\nconst data = {json.dumps(data)};\n{script}"
    out = subprocess.run([NODE, "--no-warnings", "--input-type=module", "-e", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_point_turns_about_the_axis_and_stops_at_the_edge_of_the_view():
    got = run("""
      const r = {step: Math.PI / 4, axisY: 200, radius: 100};
      console.log(JSON.stringify({
        onAxis: rotation.turnedY(200, r), back: rotation.turnedY(rotation.turnedY(170, r), r, -1),
        nearEdge: rotation.turnedY(290, r), twice: rotation.turnedY(200, r, 2),
        meta: rotation.rotationOf({meta: {rotation: {step_deg: 30, axis_y: 250, radius: 90}},
                                   assets: [{height: 512}, {height: 512}]}),
        defaults3: rotation.rotationOf({meta: {}, assets: [{height: 400}, {}, {}]}),
        defaults8: rotation.rotationOf({meta: {}, assets: Array(8).fill({height: 400})}),
      }));""", None)
    assert got["onAxis"] == pytest.approx(200 + 100 * 2 ** -0.5)  # sin(45°)
    assert got["back"] == pytest.approx(170)  # a turn forth and back lands where it started
    edge = 200 + 100 * (1 - 0.3 ** 2) ** 0.5  # cos(alpha) = 0.3: where the generator stops annotating it
    assert got["nearEdge"] == pytest.approx(edge) and got["twice"] == pytest.approx(edge)
    assert got["meta"] == pytest.approx({"step": 30 * 3.14159265 / 180, "axisY": 250, "radius": 90})
    assert got["defaults3"]["step"] == pytest.approx(3.14159265 / 4)  # the generator's step for short series
    assert got["defaults8"]["step"] == pytest.approx(2 * 3.14159265 / 8)
    assert got["defaults3"]["axisY"] == 200


def test_copied_defects_land_where_the_next_shot_shows_them():
    cases = []
    for i in range(40):
        kind = ["axial_scratch", "radial_scratch", "inclusion", "bubble"][i % 4]
        series = generate_series(11, i, SynthConfig(size=512), n_shots=3, defective=True, defect_types=[kind])
        rot = catheter_rotation(series)
        for k in range(2):  # one defect seen in two neighbouring shots: where the next shot has it
            if len(series[k].defects) == 1 and len(series[k + 1].defects) == 1:
                cases.append({"rot": rot, "a": series[k].defects[0], "b": series[k + 1].defects[0]})
    assert len(cases) >= 15
    got = run("""
      const moved = data.map((c) => rotation.turnedDefect(
        {type: c.a.type, box: c.a.box, polygon: c.a.polygon},
        rotation.rotationOf({meta: {rotation: c.rot}, assets: [{height: 512}]}), 1, {width: 512, height: 512}));
      console.log(JSON.stringify(moved));""", cases)

    def centre_dy(a, b):
        return abs((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2)

    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h)

    turned = [centre_dy(m["box"], c["b"]["box"]) for m, c in zip(got, cases)]
    kept = [centre_dy(c["a"]["box"], c["b"]["box"]) for c in cases]
    # a 45° turn moves a defect tens of pixels; the copy follows it to within a few
    assert sum(kept) / len(kept) > 40
    assert sum(turned) / len(turned) < 4, turned
    assert sum(iou(m["box"], c["b"]["box"]) for m, c in zip(got, cases)) / len(cases) > 0.5
    for m, c in zip(got, cases):
        assert [p[0] for p in m["polygon"]] == pytest.approx([p[0] for p in c["a"]["polygon"]], abs=0.05)  # x stays
        assert 0 <= m["box"][1] < m["box"][3] <= 512
