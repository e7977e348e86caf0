"""The operator workspace in a real browser: drawing with the mouse, keys, copy to the next shot,
undo/redo, drafts, leases, review send-back and live queue depth. Screenshots go to artifacts/screenshots."""
import math

import pytest
from django.contrib.auth import get_user_model

from webapp.labeling.models import Draft, Revision, WorkItem
from webapp.labeling.services import lease_take_next

from .workspace_helpers import open_workspace, shot, to_screen, write_shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
User = get_user_model()


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
    page.keyboard.press("?")  # every shortcut listed
    page.wait_for_selector("#help:not([hidden])")
    assert "Copy the selected defect to the next shot" in page.inner_text("#help")
    shot(page, "01b-help")
    page.keyboard.press("Escape")
    page.wait_for_selector("#help", state="hidden")

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
    # move it by dragging its inside, and type at once: the move is kept (Annotorious reports it late)
    page.keyboard.press("v")
    page.mouse.move(*to_screen(page, 400, 325))
    page.mouse.down()
    page.mouse.move(*to_screen(page, 420, 340), steps=3)
    page.mouse.move(*to_screen(page, 440, 355), steps=3)
    page.mouse.up()
    page.keyboard.press("3")
    moved = page.evaluate("window.LOUPE_WS.annotation().shots[0].defects[0].box")
    assert all(abs(a - b) <= 2 for a, b in zip(moved, [340, 280, 540, 430])), moved

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
    page.wait_for_selector("#draft-status:has-text('Saved as revision 1')")
    page.wait_for_timeout(300)
    assert page.locator("#lease-banner").is_hidden()  # the lease ended with the submit: no false alarm
    shot(page, "05-submitted")
    saved = Revision.objects.get(item=item).annotation
    box, line = saved["shots"][0]["defects"]
    assert box["type"] == "inclusion" and "polyline" not in box
    assert all(abs(a - b) <= 2 for a, b in zip(box["box"], [340, 280, 540, 430])), box
    assert line["type"] == "axial_scratch"
    assert len(line["polyline"]) == 3
    assert all(abs(a - b) <= 2 for p, q in zip(line["polyline"], pts) for a, b in zip(p, q)), line
    # the copy on shot 2 is where the balloon's turn moves the scratch (no rotation in the item's meta: the
    # generator's 45° step about an axis at mid-height, radius 0.205 of the height): x kept, y turned
    def turned(y, axis=400, radius=0.205 * 800):
        edge = math.acos(0.3)
        return axis + radius * math.sin(max(-edge, min(edge, math.asin((y - axis) / radius) + math.pi / 4)))

    copied = saved["shots"][1]["defects"][0]["polyline"]
    assert [p[0] for p in copied] == [p[0] for p in line["polyline"]]
    assert all(abs(q[1] - turned(p[1])) <= 0.1 for p, q in zip(line["polyline"], copied)), (line, copied)
    assert all(q[1] - p[1] > 20 for p, q in zip(line["polyline"], copied))
    assert saved["shots"][1]["defects"][0]["id"] == line["id"]
    assert saved["verdict"] == "defect"


def test_a_reload_mid_edit_brings_the_draft_back(login, asgi_server, catheter_item, make_user):
    item = catheter_item(shots=1)
    olga = make_user("operator", username="olga")
    lease_take_next(project_id=item.project_id, user=olga)
    page = login("olga")
    open_workspace(page, f"{asgi_server}/items/{item.pk}/")
    page.keyboard.press("g")  # a polygon (an inclusion): click the corners, then the first one again
    page.keyboard.press("3")
    corners = [(200, 200), (320, 210), (300, 320), (190, 300)]
    for x, y in corners + corners[:1]:
        page.mouse.click(*to_screen(page, x, y))
        page.wait_for_timeout(120)
    page.wait_for_function("window.LOUPE_WS.annotation().shots[0].defects.length === 1")
    page.keyboard.press("o")  # point tool: a bubble
    page.keyboard.press("4")
    page.mouse.click(*to_screen(page, 600, 420))
    page.wait_for_function("window.LOUPE_WS.annotation().shots[0].defects.length === 2")
    page.wait_for_selector("#draft-status[data-saved='1']", timeout=5000)  # saved within 2 s of the edit
    shot(page, "06-draft-saved")
    saved = Draft.objects.get(item=item, user=olga).annotation["shots"][0]["defects"]
    assert [d["type"] for d in saved] == ["inclusion", "bubble"]
    assert len(saved[0]["polygon"]) == 4
    assert all(abs(a - b) <= 2 for p, q in zip(saved[0]["polygon"], corners) for a, b in zip(p, q)), saved[0]

    page.reload()
    open_workspace(page, page.url)
    defects = page.evaluate("window.LOUPE_WS.annotation().shots[0].defects")
    assert [d["type"] for d in defects] == ["inclusion", "bubble"]
    assert len(defects[0]["polygon"]) == 4
    assert all(abs(a - b) <= 2 for a, b in zip(defects[1]["point"], [600, 420]))
    assert page.locator(".layer-answer circle").count() == 1
    shot(page, "07-draft-restored")
    assert not Revision.objects.filter(item=item).exists()


def test_a_second_browser_on_a_leased_item_is_refused_cleanly(login, asgi_server, catheter_item, make_user):
    item = catheter_item(shots=1)
    olga = make_user("operator", username="olga")
    make_user("operator", username="otto")
    lease_take_next(project_id=item.project_id, user=olga)
    first = login("olga")
    open_workspace(first, f"{asgi_server}/items/{item.pk}/")
    second = login("otto")
    open_workspace(second, f"{asgi_server}/items/{item.pk}/")
    banner = second.locator("#lease-banner")
    assert banner.is_visible() and "olga" in banner.inner_text()
    assert second.locator("#submit").is_disabled()
    second.keyboard.press("r")  # tools do nothing on a read-only page
    assert second.get_attribute("[data-viewer]", "data-tool") == "select"
    second.keyboard.press("Control+Enter")
    assert "lease" in second.inner_text("#editor-errors")
    # the server refuses the draft too: otto holds no lease
    status = second.evaluate(f"""Loupe.api("PUT", "/api/v1/items/{item.pk}/draft/",
        {{annotation: {{verdict: "ok", shots: [{{defects: []}}]}}, base_revision: null,
          from_prediction: null}}).then(r => r.status)""")
    assert status == 409
    shot(second, "08-second-browser-refused")
    assert not Revision.objects.filter(item=item).exists() and not Draft.objects.filter(item=item).exists()


def test_reviewer_sees_the_diff_and_sends_back_with_a_comment_the_operator_sees(
        login, asgi_server, catheter_item, make_user):
    from webapp.labeling.services import prediction_record, revision_submit
    from webapp.mlops.services import model_version_register

    item = catheter_item(shots=2)
    version = model_version_register(kind="catheter", scope_key=item.project.scope_key, artifact_uri="/tmp/x")
    proposal = {"verdict": "defect", "shots": [
        {"defects": [{"type": "bubble", "box": [100, 100, 160, 150]},
                     {"type": "inclusion", "box": [700, 300, 760, 350]}]},
        {"defects": []}]}
    prediction, _ = prediction_record(item_id=item.pk, model_version_id=version.pk, payload=proposal,
                                      scores={"defect": 0.8, "types": {"bubble": 0.9, "inclusion": 0.35}},
                                      uncertainty=0.4)
    olga = make_user("operator", username="olga")
    make_user("reviewer", username="rita")
    answer = {"verdict": "defect", "shots": [
        {"defects": [{"type": "bubble", "box": [100, 100, 160, 150]},
                     {"type": "inclusion", "box": [710, 305, 770, 355]},
                     {"type": "axial_scratch", "box": [300, 380, 600, 420], "polyline": [[300, 380], [600, 420]]}]},
        {"defects": []}]}
    lease_take_next(project_id=item.project_id, user=olga)
    revision_submit(item_id=item.pk, user=olga, annotation=answer, base_revision=None, from_prediction_id=prediction.pk)

    rita = login("rita")
    open_workspace(rita, f"{asgi_server}/items/{item.pk}/")
    rita.wait_for_selector("#review-box:not([hidden])")
    rita.wait_for_selector("[data-count=added]")
    assert rita.inner_text("[data-count=added]").startswith("1")
    assert rita.inner_text("[data-count=changed]").startswith("1")
    assert rita.locator(".diff-added .shape").count() == 1 and rita.locator(".diff-after .shape").count() == 1
    shot(rita, "09-review-diff")
    rita.fill("#review-comment", "The inclusion is smaller: redraw it tight.")
    rita.click("#send-back")
    rita.wait_for_selector("#item-state.state-sent_back")

    page = login("olga")
    page.goto(f"{asgi_server}/projects/{item.project.slug}/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/items/{item.pk}/")
    open_workspace(page, page.url)
    page.wait_for_selector("#sent-back:not([hidden])")
    assert "redraw it tight" in page.inner_text("#sent-back-comment")
    shot(page, "10-operator-sees-send-back")


def test_an_image_request_that_fails_once_is_retried(login, asgi_server, catheter_item, make_user):
    """A server hiccup on the image (here: a 503 for the first request of the shot) must not leave the viewer
    blank: the tile is asked for again and the shot is drawn."""
    item = catheter_item(shots=1)
    make_user("operator", username="olga")
    page = login("olga")
    refused: list[str] = []

    def once(route):
        if not refused:
            refused.append(route.request.url)
            return route.fulfill(status=503, body="busy")
        return route.continue_()

    page.route("**/assets/*/working*", once)
    page.route("**/assets/*/tiles_files/**", once)
    open_workspace(page, f"{asgi_server}/items/{item.pk}/")
    assert len(refused) == 1
    # the shot is on screen: the pixels the viewer drew at the image's centre are the photo's, not the
    # viewer's empty background (a failed tile counts as "loaded" for OpenSeadragon, so ask the canvas)
    page.wait_for_function("""() => { const v = window.LOUPE_WS.viewer.osd, c = v.drawer.canvas;
        const p = v.world.getItemAt(0).imageToViewerElementCoordinates(new OpenSeadragon.Point(600, 400));
        const r = window.devicePixelRatio || 1;
        const [red, green, blue] = c.getContext("2d").getImageData(p.x * r, p.y * r, 1, 1).data;
        return red + green + blue > 120; }""", timeout=10000)


def test_a_second_browser_sees_the_queue_depth_change_live(login, asgi_server, catheter_item, make_user):
    project = catheter_item(shots=1).project
    for _ in range(2):
        catheter_item(project=project, shots=1)
    make_user("operator", username="olga")
    make_user("operator", username="otto")
    watcher = login("otto")
    lease_take_next(project_id=project.pk, user=User.objects.get(username="otto"))
    first_item = WorkItem.objects.filter(project=project).order_by('pk').first()
    open_workspace(watcher, f"{asgi_server}/items/{first_item.pk}/")
    watcher.wait_for_selector("#live-status.on")
    page = login("olga")
    page.goto(f"{asgi_server}/projects/{project.slug}/")
    page.keyboard.press("n")
    page.wait_for_url("**/items/*/")
    # otto's page leased the next item ahead of his, olga took the last: none of the three is left queued
    watcher.wait_for_function("document.querySelector('#queue-depth [data-depth=queued]')?.textContent === '0' && "
                              "document.querySelector('#queue-depth').textContent.includes('3 being labeled')")
    shot(watcher, "11-queue-depth-live")
    # a new champion for the project's scope: the page offers to load its proposal
    from webapp.mlops.services import champion_promote, model_version_register

    version = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/tmp/x")
    champion_promote(version_id=version.pk, actor=None, reason="better on the golden set")
    watcher.wait_for_selector("#live-banner:not([hidden]) button")
    assert "champion" in watcher.inner_text("#live-banner")


def test_operator_flags_an_item_with_a_reason(login, asgi_server, catheter_item, make_user):
    item = catheter_item(shots=1)
    olga = make_user("operator", username="olga")
    lease_take_next(project_id=item.project_id, user=olga)
    page = login("olga")
    open_workspace(page, f"{asgi_server}/items/{item.pk}/")
    page.keyboard.press("f")
    page.wait_for_selector("#flag-form:not([hidden])")
    page.select_option("#flag-reason", "taxonomy_question")
    page.fill("#flag-comment", "Is a double scratch one defect or two?")
    shot(page, "13-flag-form")
    page.click("#flag-send")
    page.wait_for_url(f"**/projects/{item.project.slug}/")
    item.refresh_from_db()
    assert item.state == "flagged"
    flag = item.flags.get()
    assert flag.reason == "taxonomy_question" and "double scratch" in flag.comment


def test_defect_map_and_saliency_per_shot_with_opacity_and_the_ood_flag(login, asgi_server, catheter_item, make_user):
    import numpy as np
    from PIL import Image

    from webapp.assets.storage import media_path
    from webapp.labeling.maps import prediction_map_relpath
    from webapp.labeling.services import prediction_record
    from webapp.mlops.services import model_version_register

    item = catheter_item(shots=2)
    version = model_version_register(kind="catheter", scope_key=item.project.scope_key, artifact_uri="/tmp/x")
    payload = {"verdict": "defect",
               "shots": [{"defects": [{"type": "bubble", "box": [560, 380, 640, 440]}]}, {"defects": []}]}
    scores = {"defect": 0.9, "maps": [{"shot": 0, "defect": True, "saliency": True}],
              "ood": {"flag": True, "score": 0.93},
              "shots": [{"verdict": "defect", "score": 0.9, "series_score": 0.81},
                        {"verdict": "ok", "score": 0.7, "series_score": 0.05}],
              "series": {"score": 0.81, "threshold": 0.42, "drove": [0]}}
    prediction_record(item_id=item.pk, model_version_id=version.pk, payload=payload, scores=scores, uncertainty=0.6)
    yy, xx = np.mgrid[0:80, 0:120]
    heat = (255 * np.exp(-((xx - 60) ** 2 + (yy - 41) ** 2) / 60)).astype(np.uint8)
    for layer, color in (("defect", (255, 0, 0)), ("saliency", (0, 200, 255))):
        rgba = np.zeros((80, 120, 4), np.uint8)
        rgba[..., :3] = color
        rgba[..., 3] = heat
        path = media_path(prediction_map_relpath(item_id=item.pk, model_version_id=version.pk, shot=0, layer=layer))
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgba, "RGBA").save(path)
    olga = make_user("operator", username="olga")
    lease_take_next(project_id=item.project_id, user=olga)
    page = login("olga")
    open_workspace(page, f"{asgi_server}/items/{item.pk}/")
    assert page.locator("#ood-flag").is_visible()  # the model's out-of-distribution flag on the item
    assert page.locator(".layer-proposal .shape").count() == 1
    # the shot that drove the balloon's verdict is marked in the film strip, with its series score
    assert page.locator("#filmstrip button.drove").count() == 1
    title = page.locator('#filmstrip button[data-shot="0"]').get_attribute("title")
    assert "drove the model's" in title and "0.810 ≥ threshold 0.420" in title
    # which model version proposed what the operator sees
    assert page.locator("#proposal-info").inner_text() == \
        f"Proposed by catheter / {item.project.scope_key or 'global'} v{version.number}."

    page.keyboard.press("m")  # the defect map of this shot, over the image
    page.wait_for_function("window.LOUPE_WS.viewer.osd.world.getItemCount() === 2")
    page.wait_for_selector("[data-opacity=defect]")
    page.fill("[data-opacity=defect]", "0.8")
    page.wait_for_function("Math.abs(window.LOUPE_WS.viewer.osd.world.getItemAt(1).getOpacity() - 0.8) < 0.01")
    page.keyboard.press("s")
    page.wait_for_function("window.LOUPE_WS.viewer.osd.world.getItemCount() === 3")
    shot(page, "12-defect-map-and-saliency")
    page.keyboard.press("m")
    page.wait_for_function("window.LOUPE_WS.viewer.osd.world.getItemAt(1).getOpacity() === 0")
    # the second shot has no maps: the toggles say so and stay off
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#filmstrip [data-shot='1'].current")
    assert page.locator("[data-layer=defect]").is_disabled() and page.locator("[data-layer=saliency]").is_disabled()


def test_n_draws_what_take_next_gives_when_the_previewed_item_went_to_someone_else(
        login, asgi_server, catheter_item, make_project, make_user):
    project = make_project(name="Line A", queue_policy="fifo")
    first, second, third, fourth = (catheter_item(project, shots=1) for _ in range(4))
    make_user("operator", username="olga")
    otto = make_user("operator", username="otto")
    page = login("olga")
    page.add_init_script("window.LOUPE_PREFETCH = 'item'")   # the opt-in mode that draws the next item ahead
    page.goto(f"{asgi_server}/projects/{project.slug}/")
    with page.expect_response(lambda r: "/up-next/?expand=item" in r.url) as previewed:
        page.keyboard.press("n")
        page.wait_for_url(f"**/items/{first.pk}/")
        page.wait_for_selector("body[data-workspace=ready]")
    assert previewed.value.json()["item"] == second.pk  # the page expects the second next
    lease_take_next(project_id=project.pk, user=otto)   # and otto takes it meanwhile
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/?saved=*")
    page.wait_for_function("document.body.dataset.workspace === 'ready' && location.search.includes('saved')")
    page.keyboard.press("n")
    page.wait_for_url(f"**/items/{third.pk}/")
    page.wait_for_function(f"document.body.dataset.workspace === 'ready' && window.LOUPE_WS.item.id === {third.pk}")
    # the third is shown and held; the second is otto's alone
    assert page.evaluate("document.body.dataset.lease") == "held"
    assert not page.locator("#submit").is_disabled()
    assert WorkItem.objects.get(pk=second.pk).lease_holder_id == otto.pk
    assert WorkItem.objects.get(pk=third.pk).lease_holder.username == "olga"
    shot(page, "12-previewed-item-taken-by-another")
    # skip still works: the fourth (the item previewed this time) comes, drawn ahead, then held
    page.keyboard.press("k")
    page.wait_for_url(f"**/items/{fourth.pk}/")
    page.wait_for_function(f"document.body.dataset.workspace === 'ready' && window.LOUPE_WS.item.id === {fourth.pk}")
    assert page.evaluate("document.body.dataset.lease") == "held"
    assert WorkItem.objects.get(pk=fourth.pk).lease_holder.username == "olga"
