"""Review by risk in a real browser: an admin sets the sampled share and a suspect threshold on the quality
page (a wrong value is refused with a message, nothing saved); a reviewer walks the risk-ordered queue by
keyboard and opens the riskiest item."""
import os

import pytest

from webapp.labeling.models import Project
from webapp.labeling.services import lease_take_next, prediction_record, revision_submit

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEFECTIVE = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [40, 40, 120, 100]}]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}]}
SHOTS = os.environ.get("LOUPE_SCREENSHOTS", "/tmp")


def test_review_by_risk_settings_by_the_admin_and_the_risk_ordered_queue_by_the_reviewer(
        login, asgi_server, make_project, make_item, make_user):
    from webapp.mlops.services import model_version_register

    project = make_project(name="Line R", queue_policy="fifo")
    make_user("admin", username="ada")
    make_user("reviewer", username="rita")
    olga = make_user("operator", username="olga")

    admin = login("ada")
    admin.goto(f"{asgi_server}/projects/{project.slug}/quality/")
    admin.fill("input[name=review_sample_share]", "1.5")   # the browser's own check is bypassed below
    admin.eval_on_selector("#review-settings", "f => f.noValidate = true")
    admin.click("#review-settings button.primary")
    admin.wait_for_selector(".messages")
    assert "review_sample_share: must be a number between 0 and 1" in admin.content()
    assert Project.objects.get(pk=project.pk).review_sample_share == 1.0
    admin.fill("input[name=review_sample_share]", "0.5")
    admin.fill("input[name=suspect_defect]", "0.95")
    admin.click("#review-settings button.primary")
    admin.wait_for_selector("text=Review and suspect settings saved.")
    project.refresh_from_db()
    # the empty "ok" field sets nothing: that threshold stays learned from the accepted answers
    assert (project.review_sample_share, project.suspect_thresholds) == (0.5, {"defect": 0.95})
    assert "Review by risk: reviewers see the riskiest 50 %" in admin.inner_text("#review-settings-summary")
    admin.screenshot(path=f"{SHOTS}/review_by_risk_settings.png", full_page=True)

    model = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/srv/m/v1")
    items = []
    for score in (0.6, 0.97, 0.8):   # olga answers "ok": the model's belief in a defect is the risk
        item = make_item(project)
        prediction_record(item_id=item.pk, model_version_id=model.pk, payload=DEFECTIVE, uncertainty=0.2,
                          scores={"defect": score})
        items.append(item)
    while (lease := lease_take_next(project_id=project.pk, user=olga)) is not None:
        revision_submit(item_id=lease.item_id, user=olga, annotation=OK, base_revision=None)

    review = login("rita")
    review.goto(f"{asgi_server}/projects/{project.slug}/")
    review.click("#review-queue-link")
    review.wait_for_url(f"**/projects/{project.slug}/review/")
    order = [int(r) for r in review.eval_on_selector_all("#review-queue tbody tr[data-item]",
                                                         "rows => rows.map(r => r.dataset.item)")]
    assert order == [items[1].pk, items[2].pk, items[0].pk]
    first = review.inner_text("#review-queue tbody tr:first-child")
    assert "model contradicts the answer with confidence 0.97" in first
    assert review.locator("#routing tbody tr[data-decision]").count() == 3
    review.screenshot(path=f"{SHOTS}/review_by_risk_queue.png", full_page=True)
    review.keyboard.press("j")
    review.keyboard.press("Enter")
    review.wait_for_url(f"**/items/{items[1].pk}/")
