"""The workspace with the next item leased ahead (LOUPE_PREFETCH = "lease"), in Chromium: n draws the item
leased ahead with no take-next on the way; nobody else gets it; skip and submit go on from it; leaving the
page gives the lease ahead back to the queue."""
import time

import pytest

from webapp.labeling.models import Lease, WorkItem
from webapp.labeling.services import lease_take_next

from .test_workspace import catheter_item  # noqa: F401 - the fixture
from .workspace_helpers import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _drawn(page, item):
    page.wait_for_url(f"**/items/{item.pk}/")
    page.wait_for_function(f"document.body.dataset.workspace === 'ready' && window.LOUPE_WS.item.id === {item.pk}")


def _open_ahead(project, username):
    return Lease.objects.filter(ahead_in=project, holder__username=username, ended_at__isnull=True).first()


def _wait_for(check, seconds: float = 10):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if (value := check()):
            return value
        time.sleep(0.1)
    return check()


def test_n_draws_the_item_leased_ahead_and_leaving_gives_it_back(
        login, asgi_server, catheter_item, make_project, make_user):  # noqa: F811 - the fixture
    project = make_project(name="Line A", queue_policy="fifo")
    first, second, third, fourth, fifth = (catheter_item(project, shots=1) for _ in range(5))
    make_user("operator", username="olga")
    otto = make_user("operator", username="otto")
    page = login("olga")
    page.add_init_script("window.LOUPE_PREFETCH = 'lease'")
    page.goto(f"{asgi_server}/projects/{project.slug}/")
    with page.expect_response(lambda r: "take-next/?ahead=true" in r.url) as ahead:
        page.keyboard.press("n")
        _drawn(page, first)
    assert ahead.value.json()["item"] == second.pk and ahead.value.json()["ahead"] is True
    assert WorkItem.objects.get(pk=second.pk).lease_holder.username == "olga"
    # otto takes the next item: never the one leased ahead to olga
    assert lease_take_next(project_id=project.pk, user=otto).item_id == third.pk

    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/?saved=*")
    page.wait_for_function("document.body.dataset.workspace === 'ready' && location.search.includes('saved')")
    asked: list[str] = []
    page.on("request", lambda r: "/take-next/" in r.url and asked.append(r.url))
    with page.expect_response(lambda r: "take-next/?ahead=true" in r.url) as ahead:
        page.keyboard.press("n")
        _drawn(page, second)
        taken_before_drawn = list(asked)
    assert taken_before_drawn == [], "the item leased ahead is drawn without asking the server"
    assert page.evaluate("document.body.dataset.lease") == "held"
    assert not page.locator("#submit").is_disabled()
    assert ahead.value.json()["item"] == fourth.pk  # the third is otto's
    shot(page, "14-item-leased-ahead-drawn")

    # skip goes on from the lease ahead too; the skipped item goes back to the queue
    with page.expect_response(lambda r: "take-next/?ahead=true" in r.url) as ahead:
        page.keyboard.press("k")
        _drawn(page, fourth)
    assert ahead.value.json()["item"] == fifth.pk
    assert Lease.objects.get(item=second, holder__username="olga").end_reason == Lease.End.SKIPPED
    assert WorkItem.objects.get(pk=second.pk).lease_holder is None
    assert _open_ahead(project, "olga").item_id == fifth.pk

    # leaving the page gives the lease ahead back at once; the current item stays olga's (a reload takes it up)
    page.goto(f"{asgi_server}/projects/")
    assert _wait_for(lambda: _open_ahead(project, "olga") is None), "the lease ahead was not given back"
    assert Lease.objects.filter(item=fifth).get().end_reason == Lease.End.RELEASED
    assert WorkItem.objects.get(pk=fourth.pk).lease_holder.username == "olga"
    assert lease_take_next(project_id=project.pk, user=otto).item_id == third.pk  # otto's own, held
