"""An admin in a real browser: opens the compare page, reads a slice, sets the operating threshold on the
curve, promotes with a reason (an override with its second reason: the gate blocked the candidate), finds
it in the audit, and opens monitoring; an operator's open item page shows the new champion live.
Screenshots under artifacts/."""
from pathlib import Path

import pytest

from tests.browser.workspace_helpers import open_workspace, write_shot
from tests.webapp.mlops.golden import pair
from webapp.labeling.services import lease_take_next, prediction_record, revision_submit
from webapp.mlops.models import ChampionAlias, OperatingThreshold, PromotionAudit
from webapp.mlops.services import champion_promote, champion_rollback, model_version_register, worker_heartbeat

pytestmark = [pytest.mark.browser, pytest.mark.slow]
OK = {"verdict": "ok", "shots": [{"defects": []}]}
DEFECT = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [4, 4, 20, 20]}]}]}
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_admin_compares_reads_a_slice_and_promotes(login, asgi_server, make_user, make_project, make_item):
    admin = make_user("admin", username="ada")
    olga = make_user("operator", username="olga")
    project = make_project("catheter", name="Line A", scope_key="line:A")
    items = [make_item(project) for _ in range(3)]
    cand_eval, champ_eval = pair(120)
    champion = model_version_register(kind="catheter", scope_key="line:A", artifact_uri="/m/1", metrics=champ_eval)
    champion_promote(version_id=champion.pk, actor=admin, reason="first model")
    candidate = model_version_register(
        kind="catheter", scope_key="line:A", artifact_uri="/m/2", promotable=False,
        blocked_reasons=["slice defect:bubble: recall 0.000 < champion 0.475 - margin 0.05"],
        metrics={**cand_eval, "champion": {"version": champion.pk, **champ_eval}, "golden": {"items": 120},
                 "training": {"loss_curve": [[s, 1 / (1 + s / 20)] for s in range(0, 200, 5)]}})

    # an operator is on an item of the scope when the admin promotes: the page hears it over the WebSocket
    for item in items:
        for link in item.item_assets.select_related("asset"):
            write_shot(link.asset)
    lease = lease_take_next(project_id=project.pk, user=olga)
    operator_page = login("olga")
    feed = {"down": False, "routes": []}   # the operator's project feed passes through the test, to cut it later

    def project_feed(route):
        if feed["down"]:
            route.close(code=4000)   # a lost connection: the page retries
            return
        feed["routes"].append((route, route.connect_to_server()))

    operator_page.route_web_socket("**/ws/projects/**", project_feed)
    open_workspace(operator_page, f"{asgi_server}/items/{lease.item_id}/")
    assert operator_page.locator("#live-banner").is_hidden()

    page = login("ada")
    page.goto(f"{asgi_server}/models/")
    page.click(f"a[href='/models/{candidate.pk}/compare/']")
    page.wait_for_url(f"**/models/{candidate.pk}/compare/")
    bubble = page.locator("tr[data-slice='defect:bubble']")
    assert "regresses" in bubble.get_attribute("class")
    cells = bubble.locator(":scope > td").all_inner_texts()
    assert cells[1] == "40" and cells[2] == "0.0000" and "beyond margin" in cells[4] and "significant" in cells[5]
    bubble.locator("summary").click()   # the slice's every metric, no JavaScript of ours involved
    assert bubble.locator("details table").is_visible()
    assert page.locator(".plots svg").count() == 4
    assert page.locator("#gate").inner_text().startswith("Gate: blocked")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)

    # the operating threshold, chosen on the curve: the point for a required recall, then set with a reason
    page.fill("input[name=recall]", "0.6")
    page.click("text=Find the operating point")
    page.wait_for_selector("#operating-point")
    assert "recall >= 0.6" in page.locator("#operating-point").inner_text()
    chosen = page.locator("#threshold-form input[name=value]").input_value()
    page.fill("#threshold-form input[name=reason]", "line A must catch most defects")
    page.click("#threshold-form button[type=submit]")
    page.wait_for_url("**/compare/?threshold=1#threshold")
    assert page.locator("[data-threshold]").inner_text() == chosen
    assert OperatingThreshold.objects.get().basis == "recall >= 0.6 on the golden set"

    page.fill("textarea[name=reason]", "fewer misses on scratches, the commonest defect")
    page.click("#promote-form button[type=submit]")
    page.wait_for_selector("#promote-form .error")   # blocked: the override needs its own reason
    assert "second reason" in page.locator("#promote-form .error").inner_text()
    assert ChampionAlias.objects.get(scope_key="line:A").model_version_id == champion.pk
    page.check("input[name=override]")
    page.fill("textarea[name=override_reason]", "bubble golden shots are being relabeled this week")
    page.click("#promote-form button[type=submit]")
    page.wait_for_url("**/compare/?promoted=1")
    assert "is now the champion" in page.locator("main").inner_text()
    operator_page.wait_for_selector(f"#live-banner[data-champion='{candidate.number}']", timeout=15000)
    assert f"A new model (v{candidate.number}) is champion" in operator_page.locator("#live-banner").inner_text()
    operator_page.screenshot(path=str(ARTIFACTS / "operator-new-champion.png"))
    audit = PromotionAudit.objects.first()
    assert (audit.to_version_id, audit.actor.username, audit.override) == (candidate.pk, "ada", True)
    page.goto(f"{asgi_server}/models/audit/?override=yes")
    assert "bubble golden shots are being relabeled" in page.locator("#audit").inner_text()
    page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)
    trails = (("thresholds", "id,created_at,kind,scope_key,version"), ("triggers", "id,created_at,project"))
    for trail, header in trails:
        href = page.get_attribute(f"#{trail[:-1]}-csv", "href")   # each trail exports from the page, as the admin
        assert href.endswith(f"format=csv&trail={trail}"), href
        assert page.request.get(f"{asgi_server}/models/audit/{href}").text().startswith(header)
    for item, verdict in zip(items[:2], ("defect", "ok")):   # corrections after the promotion
        prediction, _ = prediction_record(item_id=item.pk, model_version_id=candidate.pk, payload=OK,
                                          scores={"flagged": verdict == "ok"}, uncertainty=0.3)
        revision_submit(item_id=item.pk, user=olga, annotation=DEFECT if verdict == "defect" else OK,
                        base_revision=None, from_prediction_id=prediction.pk, require_lease=False)
    worker_heartbeat(name="infer@gpu-1", queues=["infer"], device="cuda: NVIDIA H200", pid=4242)
    page.goto(f"{asgi_server}/models/monitoring/")
    assert "cuda: NVIDIA H200" in page.locator("#workers tr[data-worker='infer@gpu-1']").inner_text()
    assert page.locator(f"#queues tr[data-project='{project.pk}'] td").nth(2).inner_text() == "1"
    assert page.locator("figure svg[aria-label='edits per revision, Line A']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "monitoring.png"), full_page=True)

    # a rollback while the operator's feed is down: the reconnect's hello names the champion, so the page
    # still learns of it
    feed["down"] = True
    for route, server in feed["routes"]:
        server.close()
        route.close(code=4000)
    operator_page.wait_for_selector("#live-status.off", timeout=15000)
    champion_rollback(kind="catheter", scope_key="line:A", actor=admin, reason="back to v1 while olga is away")
    feed["down"] = False
    operator_page.wait_for_selector(f"#live-banner[data-champion='{champion.number}']", timeout=20000)
    assert f"A new model (v{champion.number}) is champion" in operator_page.locator("#live-banner").inner_text()


def test_the_operating_point_follows_the_drag_along_the_curve(login, asgi_server, make_user):
    from webapp.mlops.comparison import operating_points

    admin = make_user("admin", username="ada")
    cand_eval, champ_eval = pair(120)
    champion = model_version_register(kind="catheter", scope_key="line:A", artifact_uri="/m/1", metrics=champ_eval)
    champion_promote(version_id=champion.pk, actor=admin, reason="first model")
    candidate = model_version_register(kind="catheter", scope_key="line:A", artifact_uri="/m/2",
                                       metrics={**cand_eval, "champion": {"version": champion.pk, **champ_eval}})
    on_curve = {p["threshold"]: p for p in operating_points(cand_eval)}
    page = login("ada")
    page.goto(f"{asgi_server}/models/{candidate.pk}/compare/")
    page.wait_for_selector("#curve-pick:not([hidden]) #curve-svg .curve-marker")
    readout = page.locator("#live-point")
    value = page.locator("#threshold-form input[name=value]")
    assert value.input_value() == ""   # opening the page sets nothing

    def shown():
        return float(readout.get_attribute("data-point-threshold"))

    # press on the curve's low-recall end and drag to its high-recall end: the point follows every move,
    # before the button is released
    page.locator("#curve-pick").scroll_into_view_if_needed()
    plot = page.locator("#curve-svg").bounding_box()
    page.mouse.move(plot["x"] + plot["width"] * 0.15, plot["y"] + plot["height"] * 0.1)
    page.mouse.down()
    seen = []
    for k in range(1, 9):
        page.mouse.move(plot["x"] + plot["width"] * (0.15 + 0.1 * k), plot["y"] + plot["height"] * (0.1 + 0.03 * k))
        seen.append(shown())
        point = on_curve[seen[-1]]   # what the page says is the server's point at that threshold
        assert readout.get_attribute("data-point-recall") == f"{point['recall']:g}"
        assert f"flagged {100 * point['flagged']:.1f} %" in readout.inner_text()
        assert value.input_value() == f"{point['threshold']:g}"
    page.mouse.up()
    assert len(set(seen)) >= 5 and seen[0] > seen[-1]   # more recall to the right: lower thresholds
    page.screenshot(path=str(ARTIFACTS / "compare-operating-point.png"), full_page=True)
    # the slider does the same from the keyboard: one step left is the next higher threshold
    page.focus("#curve-slider")
    page.keyboard.press("ArrowLeft")
    thresholds = sorted(on_curve)
    assert shown() == thresholds[thresholds.index(seen[-1]) + 1]
    assert value.input_value() == f"{shown():g}"
    page.fill("#threshold-form input[name=reason]", "the point picked on the curve")
    page.click("#threshold-form button[type=submit]")
    page.wait_for_url("**/compare/?threshold=1#threshold")
    kept = OperatingThreshold.objects.get()
    assert kept.value == shown() and "picked on the curve" in kept.basis
