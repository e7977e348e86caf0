from webapp.labeling.models import ItemState, Prediction, WorkItem
from webapp.labeling.services import prediction_record, predictions_record_batch
from webapp.mlops.services import model_version_register

OK = {"verdict": "ok", "shots": [{"defects": []}]}
BAD = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [0, 0, 5000, 10]}]}]}


def test_batch_records_once_marks_older_stale_and_isolates_bad_rows(make_project, make_item):
    project = make_project()
    items = [make_item(project) for _ in range(4)]
    v1 = model_version_register(kind="catheter", scope_key="", artifact_uri="/tmp/v1")
    v2 = model_version_register(kind="catheter", scope_key="", artifact_uri="/tmp/v2")
    prediction_record(item_id=items[0].pk, model_version_id=v1.pk, payload=OK, uncertainty=0.2)
    rows = [{"item_id": i.pk, "payload": OK, "scores": {"defect": 0.1}, "uncertainty": 0.1 * n}
            for n, i in enumerate(items[:3])]
    rows.append({"item_id": items[3].pk, "payload": BAD, "uncertainty": 0.5})
    rows.append({"item_id": 10**9, "payload": OK, "uncertainty": 0.5})
    outcome = predictions_record_batch(model_version_id=v2.pk, rows=rows)
    assert sorted(outcome["created"]) == sorted(i.pk for i in items[:3])
    assert outcome["failed"] == [items[3].pk] and outcome["skipped"] == [10**9]
    assert Prediction.objects.get(item=items[0], model_version=v1).stale
    assert WorkItem.objects.get(pk=items[2].pk).queue_rank == 0.2
    assert WorkItem.objects.get(pk=items[1].pk).state == ItemState.PREDICTED
    again = predictions_record_batch(model_version_id=v2.pk, rows=rows[:3])  # a redelivered batch
    assert again["created"] == [] and len(again["skipped"]) == 3
    assert Prediction.objects.filter(model_version=v2).count() == 3


def test_a_made_up_model_version_answers_400_naming_the_field(make_project, make_item, admin_user, api_for, db):
    item = make_item(make_project())
    payload = {"verdict": "ok", "shots": [{"defects": []} for _ in item.item_assets.all()]}
    response = api_for(admin_user).post(f"/api/v1/items/{item.pk}/predictions/",
                                        {"model_version": 424242, "payload": payload, "uncertainty": 0.5},
                                        format="json")
    assert response.status_code == 400 and response.json()["field"] == "model_version"
    assert "no model version 424242" in response.json()["detail"]
