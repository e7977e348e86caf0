"""The workspace's scripts without a browser: the flow's and the editor contract's unit tests
(tests/static/js/*.test.mjs) under Node's own test runner, and the layout rules of static/js (no file over
400 lines; an editor imports nothing from its host, the workspace)."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "static" / "js"
NODE = shutil.which("node")
IMPORT = re.compile(r"""^\s*import\s[^;]*?from\s+["']([^"']+)["']""", re.M)
MAX_LINES = 400


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed (make install brings it with npm)")
def test_the_workspace_unit_tests_pass_under_node():
    files = sorted(str(p) for p in (ROOT / "tests" / "static" / "js").glob("*.test.mjs"))
    assert files, "no unit tests found"
    out = subprocess.run([NODE, "--no-warnings", "--test", *files], capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
    ran = re.search(r"^# pass (\d+)$", out.stdout, re.M)
    assert ran and int(ran.group(1)) > 0 and re.search(r"^# fail 0$", out.stdout, re.M), out.stdout[-2000:]


def test_no_script_is_over_400_lines():
    long = {str(p.relative_to(JS)): n for p in JS.rglob("*.js") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these (over {MAX_LINES} lines): {long}"


def imports_of(path: Path) -> list[Path]:
    return [(path.parent / spec).resolve() for spec in IMPORT.findall(path.read_text())]


def test_editors_import_nothing_from_their_host():
    # An editor gets the workspace through mount(ws); it may use the shared page helpers (dom.js, svg.js)
    # and its own siblings, never a module of the workspace.
    allowed = {(JS / "dom.js").resolve(), (JS / "svg.js").resolve()}
    editors = JS / "editors"
    found = [f"{p.name} imports {target.relative_to(JS)}"
             for p in sorted(editors.glob("*.js")) for target in imports_of(p)
             if target not in allowed and target.parent != editors.resolve()]
    assert not found, found


def test_the_import_check_sees_an_import_of_the_host(tmp_path):
    editor = tmp_path / "editors" / "x.js"
    editor.parent.mkdir()
    editor.write_text('import { confidenceColor } from "../workspace/workspace.js";\nimport { h } from "../dom.js";\n')
    assert [t.name for t in imports_of(editor)] == ["workspace.js", "dom.js"]
