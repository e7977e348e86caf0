from webapp.labeling.models import ItemState, Lease, Prediction, WorkItem
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


def test_a_proposal_arriving_after_the_take_leaves_the_lease_with_its_holder(make_project, make_item, operator,
                                                                              monkeypatch):
    """The batch reads its items before it writes; an operator takes one in between (the simulated operator
    does this on every item that waits for its proposal). The stale NEW must not be written over LEASED."""
    from webapp.labeling.services import lease_take_next, revision_submit
    from webapp.labeling.services import predictions as module

    project = make_project()
    item = make_item(project)
    version = model_version_register(kind="catheter", scope_key="", artifact_uri="/tmp/v1")
    real_dims = module.items_asset_dims
    taken = []

    def take_in_between(**kwargs):
        taken.append(lease_take_next(project_id=project.pk, user=operator))
        return real_dims(**kwargs)

    monkeypatch.setattr(module, "items_asset_dims", take_in_between)
    outcome = predictions_record_batch(model_version_id=version.pk,
                                       rows=[{"item_id": item.pk, "payload": OK, "uncertainty": 0.3}])
    assert outcome["created"] == [item.pk] and taken[0].item_id == item.pk
    item.refresh_from_db()
    assert (item.state, item.lease_holder_id) == (ItemState.LEASED, operator.pk)
    # given back, the item returns to the queue as what it now is: proposed
    assert Lease.objects.get(pk=taken[0].pk).previous_state == ItemState.PREDICTED
    prediction = Prediction.objects.get(item=item)
    revision_submit(item_id=item.pk, user=operator, annotation=OK, base_revision=None,
                    from_prediction_id=prediction.pk)
