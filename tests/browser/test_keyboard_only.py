"""One pass with the keyboard alone, operator then reviewer, with a reload in the middle of an unfinished
answer: the draft brings it back, a refused submit says why and loses nothing."""
import pytest

from webapp.labeling.models import Revision, WorkItem

from .test_workspace import catheter_item  # noqa: F401
from .workspace_helpers import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_keyboard_alone_with_a_reload_mid_edit(login, asgi_server, catheter_item, make_user):  # noqa: F811
    item = catheter_item(shots=2)
    make_user("operator", username="kate")
    make_user("reviewer", username="rob")
    page = login("kate")
    page.goto(f"{asgi_server}/projects/{item.project.slug}/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/items/{item.pk}/")
    page.wait_for_selector("body[data-workspace=ready]")
    page.wait_for_selector("body[data-feed=live]")
    shot(page, "kb-01-empty")
    page.keyboard.press("d")
    page.wait_for_function("window.LOUPE_WS.annotation().verdict === 'defect'")
    page.wait_for_selector("#draft-status[data-saved='1']")
    shot(page, "kb-02-mid-edit")
    page.reload()
    page.wait_for_selector("body[data-workspace=ready]")
    assert page.evaluate("window.LOUPE_WS.annotation().verdict") == "defect"
    shot(page, "kb-03-after-reload")
    page.keyboard.press("Control+Enter")          # a defect verdict without a mark: refused, said, kept
    page.wait_for_timeout(1500)
    shot(page, "kb-03b-submit-refused")
    assert "mark the defect" in page.inner_text("#editor-errors")
    assert page.evaluate("window.LOUPE_WS.annotation().verdict") == "defect"
    page.keyboard.press("d")
    page.wait_for_function("window.LOUPE_WS.annotation().verdict === 'ok'")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("location.search.includes('saved=1')")
    shot(page, "kb-04-submitted")
    assert Revision.objects.get(item=item, number=1).annotation["verdict"] == "ok"
    rev = login("rob")
    rev.goto(f"{asgi_server}/items/{item.pk}/")
    rev.wait_for_selector("body[data-workspace=ready]")
    rev.wait_for_selector("#review-box:not([hidden])")
    shot(rev, "kb-05-review")
    rev.keyboard.press("a")
    rev.wait_for_function("document.querySelector('#item-state').textContent === 'accepted'")
    shot(rev, "kb-06-accepted")
    assert WorkItem.objects.get(pk=item.pk).state == "accepted"
