"""An admin watches a training run live (the worker's own progress reporter drives the page over the
WebSocket: loss curve, step, ETA), cancels it, and changes a project's triggers. Screenshots under artifacts/."""
from pathlib import Path

import pytest

from ml.common.trainer import Progress
from webapp.labeling.models import Project
from webapp.mlops.models import TrainingRun, TriggerChange
from workers.training import RunReporter

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_admin_watches_the_loss_curve_live_cancels_and_sets_the_triggers(login, asgi_server, make_user,
                                                                         make_project):
    from django.utils import timezone

    make_user("admin", username="ada")
    project = make_project("catheter", name="Line A", scope_key="line:A")
    run = TrainingRun.objects.create(kind="catheter", scope_key="line:A", project=project, trigger="corrections",
                                     state=TrainingRun.State.RUNNING, started_at=timezone.now(),
                                     log="phase: loading data\nphase: training")
    page = login("ada")
    page.goto(f"{asgi_server}/models/training-runs/{run.pk}/")
    assert page.locator("#loss-wrap").is_hidden()   # no point yet
    page.wait_for_selector("#live-status.on")
    reporter = RunReporter(run, every_s=0.0)
    for step in range(1, 7):
        reporter.on_step(Progress(step=step * 10, total_steps=100, epoch=0, loss=1.0 / step, elapsed_s=step * 2.0))
    page.wait_for_selector("#loss-live polyline[data-points='6']", timeout=5000)
    assert page.locator("[data-field=step]").inner_text() == "60/100"
    assert page.locator("[data-field=eta]").inner_text() == "8 s"   # 12 s for 60 steps: 40 to go
    assert page.locator("[data-field=loss]").inner_text() == "0.1667"
    run.refresh_from_db()
    assert len(run.loss_curve) == 6   # stored too: a page opened later draws the same curve
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "training-run.png"), full_page=True)

    page.click("#cancel-form button")
    page.wait_for_url(f"**/models/training-runs/{run.pk}/?cancel=1")
    run.refresh_from_db()
    assert run.cancel_requested and "Cancellation requested" in page.locator("main").inner_text()

    page.goto(f"{asgi_server}/models/training/")
    row = page.locator(f"#project-{project.pk}")
    row.locator("input[name=train_after_corrections]").fill("3")
    row.locator("input[name=auto_promote]").check()
    row.locator("input[name=reason]").fill("line A needs a faster loop")
    row.locator("button[type=submit]").click()
    page.wait_for_url(f"**/models/training/?saved={project.pk}#project-{project.pk}")
    assert "train_after_corrections 8 → 3" in page.locator("#trigger-changes").inner_text()
    project = Project.objects.get(pk=project.pk)
    assert (project.train_after_corrections, project.auto_promote) == (3, True)
    assert TriggerChange.objects.get().actor.username == "ada"
    page.screenshot(path=str(ARTIFACTS / "training.png"), full_page=True)
