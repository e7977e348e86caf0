"""Operators and reviewers in a real browser: live queue depths, take-next, edit, submit, conflicts."""
import json

import pytest
from django.db import transaction
from playwright.sync_api import expect

from webapp.labeling.models import ItemState, Revision, WorkItem
from webapp.labeling.services import lease_take_next, review_submit, revision_submit

from .workspace_helpers import SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEFECT = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [40, 40, 120, 100]}]}]}


def test_operator_labels_an_item_and_the_overview_updates_live(login, asgi_server, make_project, make_item, make_user):
    project = make_project(name="Line B")
    items = [make_item(project) for _ in range(2)]
    make_user("operator", username="olga")
    make_user("reviewer", username="rita")
    overview = login("rita")
    assert overview.locator(f"tr[data-project='{project.pk}'] [data-depth='queued']").inner_text() == "2"
    overview.wait_for_selector("#live-status.on")

    page = login("olga")
    page.goto(f"{asgi_server}/projects/{project.slug}/")
    page.keyboard.press("n")  # take next
    page.wait_for_url(f"**/items/{items[0].pk}/")
    page.wait_for_selector("body[data-workspace=ready] [data-viewer]")
    # the overview (another user's browser) sees the leases without reloading: the item taken and the one
    # leased ahead of it, so nothing is left queued for others
    # (a locator, not a JS string: the pages' Content-Security-Policy forbids evaluating strings)
    expect(overview.locator(f"tr[data-project='{project.pk}'] [data-depth='leased']")).to_have_text("2")
    expect(overview.locator(f"tr[data-project='{project.pk}'] [data-depth='queued']")).to_have_text("0")
    page.click("#json-toggle")  # the JSON view, behind its toggle, for power users
    page.fill("#editor", json.dumps(DEFECT))
    # drawn over the image while typing
    page.wait_for_function("window.LOUPE_WS.tools.anno.getAnnotations().length === 1")
    page.focus("#editor")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/items/{items[0].pk}/?saved=1")
    assert Revision.objects.get(item=items[0]).annotation == DEFECT
    expect(overview.locator(f"tr[data-project='{project.pk}'] [data-depth='submitted']")).to_have_text("1")

    review = overview
    review.goto(f"{asgi_server}/items/{items[0].pk}/")
    review.wait_for_selector("#review-box:not([hidden])")
    review.keyboard.press("a")
    review.wait_for_load_state("load")
    review.wait_for_selector("#item-state.state-accepted")
    assert WorkItem.objects.get(pk=items[0].pk).state == ItemState.ACCEPTED


def test_a_stale_save_shows_both_versions_and_loses_nothing(login, asgi_server, make_project, make_item, make_user,
                                                            expire_lease):
    project = make_project()
    item = make_item(project)
    olga = make_user("operator", username="olga")
    other = make_user("operator", username="otto")
    first = lease_take_next(project_id=project.pk, user=olga)
    page = login("olga")
    page.goto(f"{asgi_server}/items/{item.pk}/")
    page.wait_for_selector("body[data-workspace=ready]")
    page.wait_for_function("document.getElementById('lease-info').textContent.startsWith('Leased to you')")
    # the page's feed is subscribed and the lease check its hello started is answered: what follows reaches it live
    page.wait_for_selector("body[data-feed=live]")
    # Meanwhile olga's lease lapses, otto takes the item and saves first, a reviewer sends his work back
    # to the queue, and olga takes it again: her open page is based on no revision, the item is at 1.
    # Lapsing and taking are one transaction: a heartbeat of the page landing between the two would renew
    # the lapsed lease (as the server does for a lease nobody took), and otto would get nothing.
    with transaction.atomic():
        expire_lease(first)
        assert lease_take_next(project_id=project.pk, user=other).item_id == item.pk
    page.wait_for_selector("body[data-lease=lost]")  # told live that otto took it: editing stops
    assert "otto" in page.inner_text("#lease-banner")
    revision_submit(item_id=item.pk, user=other, annotation=DEFECT, base_revision=None)
    review_submit(item_id=item.pk, reviewer=make_user("reviewer"), decision="send_back", comment="check shot 1")
    assert lease_take_next(project_id=project.pk, user=olga).item_id == item.pk
    page.wait_for_selector("body[data-lease=regained]")  # taken again: editing goes on, on the old base
    page.click("#json-toggle")
    page.fill("#editor", json.dumps({"verdict": "ok", "shots": [{"defects": []}]}))
    page.click("#submit")
    page.wait_for_selector("#conflict:not([hidden])")
    page.wait_for_selector("#conflict-view:not([hidden])")  # both versions drawn side by side
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "14-conflict-side-by-side.png"))
    assert "bubble" in page.text_content("#conflict-current")
    assert '"ok"' in page.text_content("#conflict-yours")
    assert Revision.objects.filter(item=item).count() == 1
    page.click("#rebase")
    page.click("#submit")
    page.wait_for_url(f"**/items/{item.pk}/?saved=2")
    assert Revision.objects.get(item=item, number=2).annotation["verdict"] == "ok"


def test_interactive_api_docs_render_offline(login, asgi_server, make_user):
    make_user("admin", username="ada")
    page = login("ada")
    page.goto(asgi_server + "/api/docs/")
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    assert "/api/v1/projects/{id}/take-next/" in page.inner_text(".swagger-ui")
