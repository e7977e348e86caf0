"""A project's training triggers (N corrections / T minutes, auto-promote): changed by admins on the
training page and in the API, all or nothing, audited with the old and new values; a run's own page."""
import pytest

from webapp.core.errors import NotAllowed, NotFound, ServiceError
from webapp.labeling.models import Project
from webapp.mlops.models import TrainingRun, TriggerChange
from webapp.mlops.services import training_triggers_update


def test_service_changes_audits_and_refuses_bad_values_whole(admin_user, operator, make_project):
    project = make_project("catheter", name="Line T", train_after_corrections=8, train_after_minutes=10)
    change = training_triggers_update(project_id=project.pk, actor=admin_user, reason="corrections come slowly",
                                      train_after_corrections=3, auto_promote=True)
    project.refresh_from_db()
    assert (project.train_after_corrections, project.train_after_minutes, project.auto_promote) == (3, 10, True)
    assert change.changes == {"train_after_corrections": [8, 3], "auto_promote": [False, True]}
    assert (change.actor, change.reason, change.project_name) == (admin_user, "corrections come slowly", "Line T")
    # nothing changed: no audit row
    assert training_triggers_update(project_id=project.pk, actor=admin_user, train_after_corrections=3) is None
    for bad in ({"train_after_minutes": 0}, {"train_after_corrections": "5"}, {"auto_promote": 1},
                {"train_after_corrections": True}, {"queue_policy": "fifo"}):
        with pytest.raises(ServiceError) as refused:
            training_triggers_update(project_id=project.pk, actor=admin_user, **{"train_after_corrections": 20, **bad})
        assert next(iter(bad)) in refused.value.message   # the field named; the valid N not saved either
    project.refresh_from_db()
    assert project.train_after_corrections == 3 and TriggerChange.objects.count() == 1   # nothing half-saved
    with pytest.raises(NotAllowed):
        training_triggers_update(project_id=project.pk, actor=operator, train_after_minutes=5)
    with pytest.raises(NotFound):
        training_triggers_update(project_id=10**9, actor=admin_user, train_after_minutes=5)


def test_api_lists_and_changes_the_triggers(admin_user, operator, make_project, api_for):
    project = make_project("articles", name="Courier", scope_key="publisher:daily-courier")
    api = api_for(admin_user)
    body = api.get(f"/api/v1/training-triggers/?project={project.pk}").json()
    assert body["projects"] == [{"project": project.pk, "name": "Courier", "kind": "articles",
                                 "scope_key": "publisher:daily-courier", "train_after_corrections": 8,
                                 "train_after_minutes": 10, "auto_promote": False}]
    done = api.post("/api/v1/training-triggers/", {"project": project.pk, "train_after_minutes": 30,
                                                   "reason": "nights are quiet"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["train_after_minutes"] == 30
    assert done.json()["change"]["changes"] == {"train_after_minutes": [10, 30]}
    assert done.json()["change"]["actor"] == admin_user.username
    bad = api.post("/api/v1/training-triggers/", {"project": project.pk, "train_after_minutes": "30"}, format="json")
    assert bad.status_code == 400 and "train_after_minutes" in str(bad.json()), bad.json()
    # a string is a string: 0 is not turned into "0" (the schema says string)
    bad = api.post("/api/v1/training-triggers/", {"project": project.pk, "auto_promote": True, "reason": 0},
                   format="json")
    assert bad.status_code == 400 and "reason" in bad.json(), bad.json()
    assert api.post("/api/v1/training-triggers/", {"project": 10**9, "auto_promote": True},
                    format="json").status_code == 404
    assert api_for(operator).post("/api/v1/training-triggers/", {"project": project.pk, "auto_promote": True},
                                  format="json").status_code == 403
    listed = api.get("/api/v1/training-triggers/").json()
    assert listed["changes"][0]["reason"] == "nights are quiet"
    # the project's own settings endpoint does not change them silently
    patched = api.patch(f"/api/v1/projects/{project.pk}/", {"train_after_minutes": 5}, format="json")
    assert patched.status_code == 400 and "training-triggers" in str(patched.json())
    assert api.patch(f"/api/v1/projects/{project.pk}/", {"train_after_minutes": 30, "description": "d"},
                     format="json").status_code == 200
    assert Project.objects.get(pk=project.pk).train_after_minutes == 30
    schema = api.get("/api/schema/").content.decode()
    assert "/api/v1/training-triggers/" in schema and "TrainingTriggersUpdate" in schema


def test_training_page_edits_the_triggers_and_shows_the_changes(client, admin_user, operator, make_project):
    project = make_project("catheter", name="Line P")
    client.force_login(operator)
    assert client.get("/models/training/").status_code == 403
    client.force_login(admin_user)
    html = client.get("/models/training/").content.decode()
    assert f'id="triggers-{project.pk}"' in html
    form = {"project": project.pk, "train_after_corrections": "4", "train_after_minutes": "15",
            "auto_promote": "on", "reason": "a faster loop on line P"}
    done = client.post("/models/training/triggers/", form)
    assert done.status_code == 302 and done["Location"].endswith(f"#project-{project.pk}")
    project.refresh_from_db()
    assert (project.train_after_corrections, project.train_after_minutes, project.auto_promote) == (4, 15, True)
    refused = client.post("/models/training/triggers/", {**form, "train_after_minutes": "soon"})
    assert refused.status_code == 400 and "train_after_minutes: a whole number" in refused.content.decode()
    off = client.post("/models/training/triggers/", {k: v for k, v in form.items() if k != "auto_promote"})
    assert off.status_code == 302 and not Project.objects.get(pk=project.pk).auto_promote
    changes = client.get("/models/training/").content.decode().split('id="trigger-changes"')[1]
    assert "auto_promote True → False" in changes and "a faster loop on line P" in changes
    trail = client.get("/models/audit/").content.decode().split('id="trigger-audit"')[1]
    assert "Line P" in trail and "train_after_corrections 8 → 4" in trail and "a faster loop on line P" in trail


def test_run_page_shows_progress_loss_curve_log_and_cancels(client, admin_user, make_project):
    project = make_project("catheter")
    run = TrainingRun.objects.create(kind="catheter", scope_key=project.scope_key, project=project,
                                     log="phase: loading data\nphase: training", step=20, total_steps=100,
                                     loss_curve=[[0, 1.2], [10, 0.8], [20, 0.6]], loss=0.6, eta_seconds=42)
    client.force_login(admin_user)
    html = client.get(f"/models/training-runs/{run.pk}/").content.decode()
    assert "phase: loading data" in html and 'id="cancel-form"' in html and "42 s" in html
    assert 'id="loss-data"' in html and "[[0, 1.2], [10, 0.8], [20, 0.6]]" in html
    assert 'aria-label="training loss"' in html   # the server's plot for pages read without JavaScript
    assert client.post(f"/models/training-runs/{run.pk}/cancel/").status_code == 302
    run.refresh_from_db()
    assert run.state == TrainingRun.State.CANCELLED and run.cancel_requested
    assert client.post(f"/models/training-runs/{run.pk}/cancel/").status_code == 409
    assert client.get("/models/training-runs/999999/").status_code == 404
