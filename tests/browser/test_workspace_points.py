"""Points in the workspace, in a real browser: placed with the point tool, dragged with the select tool
(one undoable edit), and the viewer does not pan while a point moves."""
import pytest
from django.contrib.auth import get_user_model

from webapp.labeling.models import Draft
from webapp.labeling.services import lease_take_next

from .workspace_helpers import open_workspace, shot, to_screen, write_shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
User = get_user_model()

POINT = "window.LOUPE_WS.annotation().shots[0].defects[0].point"


def test_a_point_is_dragged_with_the_select_tool_and_the_move_undoes(login, asgi_server, make_project, make_asset,
                                                                      make_user, settings, tmp_path):
    from webapp.labeling.services import item_create

    settings.MEDIA_ROOT = str(tmp_path / "media")
    asset = make_asset(width=1200, height=800)
    write_shot(asset)
    item = item_create(project=make_project(name="Line A"), asset_ids=[asset.pk])
    olga = make_user("operator", username="olga")
    lease_take_next(project_id=item.project_id, user=olga)
    page = login("olga")
    open_workspace(page, f"{asgi_server}/items/{item.pk}/")

    page.keyboard.press("o")  # a bubble where it was seen
    page.keyboard.press("4")
    page.mouse.click(*to_screen(page, 400, 300))
    page.wait_for_function("window.LOUPE_WS.annotation().shots[0].defects.length === 1")
    placed = page.evaluate(POINT)
    assert all(abs(a - b) <= 2 for a, b in zip(placed, [400, 300])), placed

    # the select tool: press on the point, drag it, release: it moves, the image does not
    page.keyboard.press("v")
    page.keyboard.press("Escape")  # nothing selected: the drag itself picks the point
    origin = to_screen(page, 0, 0)
    page.mouse.move(*to_screen(page, 400, 300))
    page.mouse.down()
    for x, y in [(430, 320), (480, 350), (520, 380)]:
        page.mouse.move(*to_screen(page, x, y), steps=3)
    shot(page, "14-point-dragging")
    page.mouse.up()
    page.wait_for_function(f"{POINT}[0] > 500")
    moved = page.evaluate(POINT)
    assert all(abs(a - b) <= 2 for a, b in zip(moved, [520, 380])), moved
    assert to_screen(page, 0, 0) == origin, "the viewer panned while the point moved"
    assert page.evaluate("window.LOUPE_WS.selected()") == page.evaluate(
        "window.LOUPE_WS.annotation().shots[0].defects[0].id")
    cx, cy = page.evaluate("[...document.querySelectorAll('.layer-answer circle')].map("
                           "(c) => [+c.getAttribute('cx'), +c.getAttribute('cy')])[0]")
    assert abs(cx - moved[0]) < 0.5 and abs(cy - moved[1]) < 0.5
    box = page.evaluate("window.LOUPE_WS.annotation().shots[0].defects[0].box")
    assert box[0] < moved[0] < box[2] and box[1] < moved[1] < box[3], box  # the box follows the point
    shot(page, "15-point-moved")

    # the move is one edit: undo puts the point back where it was placed, redo moves it again
    page.keyboard.press("Control+z")
    page.wait_for_function(f"{POINT}[0] < 450")
    assert all(abs(a - b) <= 2 for a, b in zip(page.evaluate(POINT), [400, 300]))
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function(f"{POINT}[0] > 500")
    assert page.evaluate(POINT) == moved

    # a drag that starts away from every point pans the image as before, and moves no point
    page.mouse.move(*to_screen(page, 900, 600))
    page.mouse.down()
    page.mouse.move(*to_screen(page, 800, 500), steps=4)
    page.mouse.up()
    page.wait_for_timeout(400)
    assert to_screen(page, 0, 0) != origin
    assert page.evaluate(POINT) == moved

    # the draft on the server has the moved point
    page.wait_for_selector("#draft-status[data-saved='1']", timeout=5000)
    page.wait_for_timeout(900)
    saved = Draft.objects.get(item=item, user=olga).annotation["shots"][0]["defects"][0]
    assert saved["type"] == "bubble" and all(abs(a - b) <= 0.1 for a, b in zip(saved["point"], moved)), saved
