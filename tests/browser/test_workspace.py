"""The operator workspace in a real browser: drawing with the mouse, keys, copy to the next shot,
undo/redo, drafts, leases, review send-back and live queue depth. Screenshots go to artifacts/screenshots."""
import pytest

from webapp.labeling.models import Revision
from webapp.labeling.services import lease_take_next

from .workspace_helpers import open_workspace, shot, to_screen, write_shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def catheter_item(make_project, make_asset, settings, tmp_path):
    from webapp.labeling.services import item_create

    settings.MEDIA_ROOT = str(tmp_path / "media")

    def make(project=None, shots: int = 3):
        project = project or make_project(name="Line A")
        assets = [make_asset(width=1200, height=800) for _ in range(shots)]
        for i, a in enumerate(assets):
            write_shot(a, seed=i)
        return item_create(project=project, asset_ids=[a.pk for a in assets])

    return make


def test_operator_draws_types_copies_undoes_and_submits(login, asgi_server, catheter_item, make_user):
    item = catheter_item()
    make_user("operator", username="olga")
    page = login("olga")
    page.goto(f"{asgi_server}/projects/{item.project.slug}/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/items/{item.pk}/")
    open_workspace(page, page.url)
    shot(page, "01-opened")

    # a box with the mouse, typed as an inclusion (3)
    page.keyboard.press("r")
    x0, y0 = to_screen(page, 300, 250)
    x1, y1 = to_screen(page, 500, 400)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up()
    page.wait_for_function("window.LOUPE_WS.annotation().shots[0].defects.length === 1")
    page.keyboard.press("3")
    shot(page, "02-box")

    # a polyline (a scratch): click, click, double-click the last point; typed axial (1)
    page.keyboard.press("l")
    pts = [(700, 300), (800, 360), (900, 380)]
    screen = [to_screen(page, x, y) for x, y in pts]
    page.mouse.click(*screen[0])
    page.mouse.click(*screen[1])
    page.mouse.dblclick(*screen[2])
    page.wait_for_function("window.LOUPE_WS.annotation().shots[0].defects.length === 2")
    page.keyboard.press("1")
    page.keyboard.press("v")
    shot(page, "03-polyline")
    defects = page.evaluate("window.LOUPE_WS.annotation().shots[0].defects")
    assert [d["type"] for d in defects] == ["inclusion", "axial_scratch"]

    # copy the selected scratch to the next shot (Shift+→): the strip moves to shot 2
    page.keyboard.press("Shift+ArrowRight")
    page.wait_for_selector("#filmstrip [data-shot='1'].current")
    page.wait_for_function("window.LOUPE_WS.annotation().shots[1].defects.length === 1")
    shot(page, "04-copied-to-shot-2")

    # undo the copy, redo it
    page.keyboard.press("Control+z")
    page.wait_for_function("window.LOUPE_WS.annotation().shots[1].defects.length === 0")
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function("window.LOUPE_WS.annotation().shots[1].defects.length === 1")
    assert page.inner_text("#verdict").startswith("Defect")

    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/items/{item.pk}/?saved=1")
    shot(page, "05-submitted")
    saved = Revision.objects.get(item=item).annotation
    box, line = saved["shots"][0]["defects"]
    assert box["type"] == "inclusion" and "polyline" not in box
    assert all(abs(a - b) <= 2 for a, b in zip(box["box"], [300, 250, 500, 400])), box
    assert line["type"] == "axial_scratch"
    assert len(line["polyline"]) == 3
    assert all(abs(a - b) <= 2 for p, q in zip(line["polyline"], pts) for a, b in zip(p, q)), line
    assert saved["shots"][1]["defects"][0]["polyline"] == line["polyline"]
    assert saved["shots"][1]["defects"][0]["id"] == line["id"]
    assert saved["verdict"] == "defect"
