"""No page script turns data into markup: text reaches the DOM as text (static/js/dom.js builds elements).
A defect id, a label or a comment typed by one user once rendered as markup in a reviewer's browser."""
import re
from pathlib import Path

JS = Path(__file__).resolve().parents[2] / "static" / "js"
SINKS = re.compile(r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|createContextualFragment"
                   r"|\bnew Function\b|\beval\(")


def test_no_script_writes_markup_from_strings():
    found = [f"{path.relative_to(JS)}:{n}: {line.strip()}"
             for path in sorted(JS.rglob("*.js"))
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if SINKS.search(line) and not line.lstrip().startswith("//")]
    assert not found, "HTML sinks in static/js:\n" + "\n".join(found)


def test_the_check_sees_a_sink(tmp_path):
    # The pattern itself must match what it forbids (a check that cannot fail is no check).
    assert SINKS.search('row.innerHTML = `<i>${d.id}</i>`;')
    assert SINKS.search("el.insertAdjacentHTML('beforeend', s)")
    assert not SINKS.search("row.replaceChildren();")
