import re

from webapp.labeling.models import Prediction
from webapp.labeling.services import prediction_record, revision_submit
from webapp.mlops.services import champion_promote, model_version_register

OK = {"verdict": "ok", "shots": [{"defects": []}]}
DEFECT = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [4, 4, 20, 20]}]}]}


def test_monitoring_page_shows_queues_operators_edits_with_promotions_and_ood(client, admin_user, operator,
                                                                             make_project, make_item, api_for):
    project = make_project("catheter", name="Line M")
    items = [make_item(project) for _ in range(4)]
    version = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/m/1")
    champion_promote(version_id=version.pk, actor=admin_user, reason="first model")
    for n, item in enumerate(items[:3]):   # the model says OK; one OOD flag
        prediction, _ = prediction_record(item_id=item.pk, model_version_id=version.pk, payload=OK,
                                          scores={"flagged": n == 0}, uncertainty=0.4)
    # two human corrections against the proposal: one changes the verdict and adds a defect, one agrees

    for item, annotation in ((items[0], DEFECT), (items[1], OK)):
        revision_submit(item_id=item.pk, user=operator, annotation=annotation, base_revision=None,
                        from_prediction_id=Prediction.objects.get(item=item).pk, require_lease=False)
    client.force_login(operator)
    assert client.get("/models/monitoring/").status_code == 403
    client.force_login(admin_user)
    assert client.get("/models/monitoring/?days=5").status_code == 400
    html = client.get("/models/monitoring/?workers=0").content.decode()
    queue_row = html.split(f'<tr data-project="{project.pk}">')[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", queue_row)
    assert cells[2:6] == ["2", "0", "2", "0"] and cells[6].endswith(" s")   # waiting, leased, submitted, accepted; age
    throughput = html.split('id="throughput"')[1].split("</table>")[0]
    assert f"<td>{operator.username}</td><td>Line M</td><td>2</td>" in throughput
    timeline = html.split(f'data-timeline="{project.pk}"')[1].split("</table>")[0]
    day = re.findall(r"<td>(.*?)</td>", timeline.split("<tbody>")[1])
    assert day[1] == "2" and float(day[2]) > 0   # two revisions today; one changed the proposal
    assert 'aria-label="edits per revision, Line M"' in html and "promote v1" in html
    ood = html.split('id="ood"')[1].split("</table>")[0]
    assert "<td>Line M</td><td>3</td><td>1</td><td>33 %</td>" in ood
    body = api_for(admin_user).get("/api/v1/monitoring/?days=7").json()
    mine = next(q for q in body["queues"] if q["project"] == project.pk)
    assert mine["depth"]["queued"] == 2 and mine["oldest_age_s"] >= 0
    edits = next(e for e in body["edits"] if e["project"] == project.pk)
    assert edits["series"][0]["revisions"] == 2 and edits["promotions"][0]["to_version"] == version.pk
    assert {"project": "Line M", "predictions": 3, "flagged": 1, "share": 1 / 3} in body["ood"]
    assert api_for(admin_user).get("/api/v1/monitoring/?days=2").status_code == 400
    assert api_for(operator).get("/api/v1/monitoring/").status_code == 403


def test_workers_show_their_queues_device_and_last_heartbeat(client, admin_user, api_for, settings):
    from datetime import timedelta

    from django.utils import timezone

    from webapp.mlops.models import WorkerHeartbeat
    from webapp.mlops.services import worker_heartbeat, worker_stopped

    settings.LOUPE_WORKER_HEARTBEAT_SECONDS = 10
    worker_heartbeat(name="infer@gpu-1", queues=["infer"], device="cuda: NVIDIA H200", pid=41)
    worker_heartbeat(name="cpu@web-1", queues=["train", "cpu"], device="cpu", pid=42)
    worker_heartbeat(name="old@gone", queues=["cpu"], device="cpu")
    WorkerHeartbeat.objects.filter(name="old@gone").update(last_seen=timezone.now() - timedelta(seconds=31))
    worker_heartbeat(name="cpu@web-1", queues=["cpu", "train"], device="cpu", pid=42)   # beats again: one row
    worker_stopped(name="cpu@web-1")
    assert WorkerHeartbeat.objects.count() == 3
    client.force_login(admin_user)
    html = client.get("/models/monitoring/").content.decode()
    rows = {name: html.split(f'<tr data-worker="{name}"')[1].split("</tr>")[0]
            for name in ("infer@gpu-1", "cpu@web-1", "old@gone")}
    assert "<td>infer</td><td>cuda: NVIDIA H200</td>" in rows["infer@gpu-1"] and "s ago)" in rows["infer@gpu-1"]
    assert "silent" not in rows["infer@gpu-1"] and "stopped" not in rows["infer@gpu-1"]
    assert "<td>cpu, train</td><td>cpu</td>" in rows["cpu@web-1"] and "stopped" in rows["cpu@web-1"]
    assert "silent" in rows["old@gone"]
    body = api_for(admin_user).get("/api/v1/monitoring/?days=1").json()
    alive = {w["name"]: w["alive"] for w in body["workers"]}
    assert alive == {"infer@gpu-1": True, "cpu@web-1": False, "old@gone": False}
    gpu = next(w for w in body["workers"] if w["name"] == "infer@gpu-1")
    assert gpu["queues"] == ["infer"] and gpu["device"].startswith("cuda") and gpu["age_s"] < 10


def test_learning_curve_shows_edits_per_item_by_the_version_that_proposed(client, admin_user, operator, make_project,
                                                                         make_item, api_for):
    project = make_project("catheter", name="Line L")
    v1 = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/m/1")
    v2 = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/m/2")
    # v1 proposed OK on 12 defective balloons (each corrected: a verdict and a defect), v2 the right answer
    # on 8 (accepted as proposed): the curve falls where v2 took over
    for version, proposal, n in ((v1, OK, 12), (v2, DEFECT, 8)):
        for _ in range(n):
            item = make_item(project)
            prediction, _ = prediction_record(item_id=item.pk, model_version_id=version.pk, payload=proposal,
                                              scores={}, uncertainty=0.4)
            revision_submit(item_id=item.pk, user=operator, annotation=DEFECT, base_revision=None,
                            from_prediction_id=prediction.pk, require_lease=False)
    client.force_login(admin_user)
    html = client.get("/models/monitoring/").content.decode()
    table = html.split(f'data-learning="{project.pk}"')[1].split("</table>")[0]
    rows = [re.findall(r"<td>(.*?)</td>", r) for r in table.split("<tr data-version=")[1:]]
    assert [r[:2] for r in rows] == [["v1", "12"], ["v2", "8"]]
    assert float(rows[0][2]) > 0 and float(rows[1][2]) == 0
    blocks = html.split(f'data-learning-blocks="{project.pk}"')[1].split("</table>")[0]
    cells = re.findall(r"<td>(.*?)</td>", blocks.split("<tbody>")[1])
    assert cells[0] == "1-10" and cells[2] == "v1" and cells[4] == "11-20" and cells[6] == "v1, v2"
    assert float(cells[1]) > float(cells[5])
    body = api_for(admin_user).get("/api/v1/monitoring/?days=7").json()
    learning = next(e for e in body["edits"] if e["project"] == project.pk)["learning"]
    assert [(v["version"], v["revisions"]) for v in learning["by_version"]] == [(1, 12), (2, 8)]
    assert learning["blocks"][1]["versions"] == [1, 2]
