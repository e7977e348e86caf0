"""The demo's live status line: workers up, queued items per project (and flagged), training progress."""
from webapp.core.management.commands.rundemo import status_line
from webapp.labeling.models import WorkItem
from webapp.mlops.models import TrainingRun


def test_status_line(make_project, make_item):
    project = make_project(slug="line-a", scope_key="line:A")
    for _ in range(3):
        make_item(project)
    WorkItem.objects.filter(pk=project.items.first().pk).update(state="flagged")
    assert status_line(None) == "workers ?/2 up · queued: line-a 2 (+1 flagged) · training: idle"
    TrainingRun.objects.create(kind="catheter", scope_key="line:A", state="running", progress=0.42)
    TrainingRun.objects.create(kind="articles", scope_key="", state="queued")
    assert status_line(2) == ("workers 2/2 up · queued: line-a 2 (+1 flagged) · "
                              "training: catheter/line:A 42%, articles/global queued")
