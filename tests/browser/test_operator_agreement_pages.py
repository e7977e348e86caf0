"""Operator agreement in a real browser, as the reviewer: from the quality page a disagreement opens with both
answers drawn side by side on the item's image; 2 keeps the second answer; on the next one m starts a merge from
the first answer (the merged answer is drawn as it is edited), Esc cancels it, and Ctrl+Enter saves it.
Screenshots under artifacts/screenshots (agreement-*.png)."""
import json

import pytest

from tests.browser.workspace_helpers import shot, write_shot
from webapp.labeling.models import AnswerPair, ItemState, WorkItem
from webapp.labeling.services import lease_take_next, revision_submit

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SCRATCH = {"type": "axial_scratch", "box": [200, 230, 460, 300]}
BUBBLE = {"type": "bubble", "box": [520, 250, 600, 330]}
DEFECTIVE = {"verdict": "defect", "shots": [{"defects": [SCRATCH]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}]}


def _answer(project, user, annotation):
    lease = lease_take_next(project_id=project.pk, user=user)
    revision_submit(item_id=lease.item_id, user=user, annotation=annotation, base_revision=None)
    return lease.item_id


def test_operator_agreement_reviewer_keeps_or_merges_side_by_side_by_keyboard(
        login, asgi_server, make_project, make_item, make_user):
    project = make_project(name="Line D", queue_policy="fifo", double_answer_share=1.0, review_required=False)
    items = [make_item(project) for _ in range(2)]
    for item in items:
        for link in item.item_assets.select_related("asset"):
            write_shot(link.asset)
    olga, oscar = make_user("operator", username="olga"), make_user("operator", username="oscar")
    make_user("reviewer", username="rita")
    for _ in items:
        _answer(project, olga, DEFECTIVE)
    _answer(project, oscar, OK)
    _answer(project, oscar, {"verdict": "defect", "shots": [{"defects": [BUBBLE]}]})

    page = login("rita")
    page.goto(f"{asgi_server}/projects/{project.slug}/quality/")
    assert page.locator("#disagreements tbody tr[data-item]").count() == 2
    assert "olga & oscar" in page.inner_text("#agreement")
    page.locator("#agreement").scroll_into_view_if_needed()
    shot(page, "agreement-00-quality-page")
    page.click(f"#disagreements a[href='/items/{items[0].pk}/answers/']")
    page.wait_for_selector("body[data-pair=ready]")
    first, second = page.locator(".golden-col[data-side=first]"), page.locator(".golden-col[data-side=second]")
    assert first.locator(".golden-summary").inner_text() == "verdict: defect · 1 defect"
    assert second.locator(".golden-summary").inner_text() == "verdict: ok · 0 defects"
    assert first.locator("rect.golden-shape[data-type=axial_scratch]").count() == 1
    assert first.locator("image").count() == 1 and second.locator("image").count() == 1
    assert "olga" in first.locator("h2").inner_text() and "oscar" in second.locator("h2").inner_text()
    assert "box f1 0.0 · first verdict defect · only in first 1 · only in second 0 · second verdict ok · verdict " \
        "agrees no" in page.inner_text("#pair-state")
    shot(page, "agreement-01-side-by-side")

    page.keyboard.press("2")                          # keep the second answer
    page.wait_for_selector("text=kept the second answer")
    pair = AnswerPair.objects.get(item_id=items[0].pk)
    assert (pair.state, pair.resolution, pair.resolved_by.username) == ("resolved", "kept_second", "rita")
    item = WorkItem.objects.get(pk=items[0].pk)
    assert item.state == ItemState.ACCEPTED and item.head_revision.annotation["verdict"] == "ok"
    assert page.locator("#pair-resolve").count() == 0

    page.goto(f"{asgi_server}/items/{items[1].pk}/answers/")
    page.wait_for_selector("body[data-pair=ready]")
    page.keyboard.press("m")                          # merge, starting from the first answer
    assert page.locator("#merge").is_visible() and page.locator(".golden-col[data-side=merged]").is_visible()
    assert json.loads(page.input_value("#merge-annotation")) == DEFECTIVE
    page.keyboard.press("Escape")
    assert not page.locator("#merge").is_visible()
    page.keyboard.press("m")
    merged = {"verdict": "defect", "shots": [{"defects": [SCRATCH, BUBBLE]}]}
    page.fill("#merge-annotation", json.dumps(merged))
    page.wait_for_function("document.querySelectorAll('.golden-col[data-side=merged] rect.golden-shape').length"
                           " === 2")
    assert page.locator(".golden-col[data-side=merged] .golden-summary").inner_text() == \
        "verdict: defect · 2 defects"
    page.fill("#merge-annotation", "{not json")
    assert "Not valid JSON yet" in page.inner_text("#merge-status")
    page.fill("#merge-annotation", json.dumps(merged))
    page.fill("#pair-comment", "both defects are real")
    page.locator("#pair-comment").focus()
    shot(page, "agreement-02-merge")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("text=merged; the item is accepted with it")
    pair = AnswerPair.objects.get(item_id=items[1].pk)
    assert (pair.resolution, pair.merged_from, pair.comment) == ("merged", "first", "both defects are real")
    item = WorkItem.objects.get(pk=items[1].pk)
    assert item.head_revision.annotation["shots"][0]["defects"] == [SCRATCH, BUBBLE]
    assert item.head_revision.author.username == "rita"
    assert "merged (starting from the first answer)" in page.inner_text("#pair-state")
    assert page.locator(".golden-col[data-side=kept] .golden-summary").inner_text() == "verdict: defect · 2 defects"
    shot(page, "agreement-03-resolved")
