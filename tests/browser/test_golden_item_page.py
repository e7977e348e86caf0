"""The admin in a real browser: from the compare page a disagreeing golden item opens with the golden truth,
the champion's proposal and the candidate's side by side, each version's per-item figures above them; j / k
walk the disagreeing items, u goes back. A proposal the worker stores meanwhile arrives over the mlops feed
and the page shows it. Screenshots under artifacts/screenshots (golden-*.png)."""
import pytest

from tests.browser.workspace_helpers import shot, write_shot
from tests.webapp.mlops.test_golden_items import BUBBLE, golden  # noqa: F401  (the fixture)
from webapp.mlops.services_golden import golden_proposals_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_admin_opens_a_disagreeing_item_side_by_side_and_walks_them(login, asgi_server, golden):  # noqa: F811
    admin, items, champion, candidate = golden
    for item in items:
        for link in item.item_assets.select_related("asset"):
            write_shot(link.asset)
    golden_proposals_store(version_id=candidate.pk, rows=[{"item_id": items[0].pk, "payload": BUBBLE, "scores": {}}])
    page = login("ada")
    page.goto(f"{asgi_server}/models/{candidate.pk}/compare/")
    page.click(f"#disagreements a[data-golden-item='{items[0].pk}']")
    page.wait_for_selector("body[data-golden=ready]")
    assert f"/models/{candidate.pk}/compare/items/{items[0].pk}/" in page.url
    cols = {role: page.locator(f".golden-col[data-role={role}]") for role in ("truth", "champion", "candidate")}
    assert cols["truth"].locator(".golden-summary").inner_text() == "verdict: defect · 1 defect"
    assert cols["champion"].locator(".golden-summary").inner_text() == "verdict: ok · 0 defects"
    assert cols["candidate"].locator(".golden-summary").inner_text() == "verdict: defect · 1 defect"
    assert cols["truth"].locator("rect.golden-shape[data-type=bubble]").count() == 1
    assert cols["champion"].locator(".golden-shape").count() == 0
    assert cols["candidate"].locator("rect.golden-shape").count() == 1
    assert cols["candidate"].locator("image").count() == 1
    figures = page.locator("#golden-figures")
    assert figures.locator("td[data-role=champion][data-figure=value]").inner_text() == "0.000"
    assert figures.locator("td[data-role=candidate][data-figure=value]").inner_text() == "1.000"
    assert page.locator("#golden-position").inner_text() == "1"
    shot(page, "golden-01-side-by-side")

    # j: the next disagreeing item; its candidate proposal is not made yet, the worker's arrives live
    page.keyboard.press("j")
    page.wait_for_url(f"**/compare/items/{items[1].pk}/**")
    page.wait_for_selector("body[data-golden=ready]")
    assert page.locator("#golden-position").inner_text() == "2"
    assert page.locator(".golden-col[data-role=candidate]").get_attribute("data-drawn") == "none"
    asking = page.locator("#golden-request").inner_text()
    assert asking.startswith(f"v{champion.number} and v{candidate.number} made no")
    page.wait_for_function("document.getElementById('live-status').classList.contains('on')")
    golden_proposals_store(version_id=candidate.pk, rows=[{"item_id": items[1].pk, "payload": BUBBLE, "scores": {}}])
    page.wait_for_selector(".golden-col[data-role=candidate][data-drawn=yes]", timeout=15000)
    # the champion never predicted this item either: the form now asks for its proposal only
    assert page.locator("#golden-request").inner_text().startswith(f"v{champion.number} made no proposal")
    shot(page, "golden-02-next-arrived-live")
    page.keyboard.press("k")
    page.wait_for_url(f"**/compare/items/{items[0].pk}/**")
    page.wait_for_selector("body[data-golden=ready]")
    page.keyboard.press("u")
    page.wait_for_url(f"**/models/{candidate.pk}/compare/**")
