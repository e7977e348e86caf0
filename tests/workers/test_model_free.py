"""OMR proposals from the first item: the alignment needs no detector, so an OMR scope without any model
version proposes at once, recorded against its model-free version; the first champion re-scores the items."""
import uuid

import pytest

from webapp.labeling.models import Prediction
from webapp.mlops.models import ModelVersion
from webapp.mlops.selectors import champion_get, version_compare
from webapp.mlops.services import champion_promote, model_version_register
from workers import inference, model_free, triggers
from workers.adapters import get_adapter
from workers.models import scope_dir

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
MODERATE, WRONG = 0, 6   # indices in ml.omr.demo.KIND_CYCLE


def test_an_omr_item_gets_its_alignment_without_any_detector(settings, make_project, omr_items, client, admin_user):
    settings.LOUPE_PRETRAINED = False
    scope = f"publisher:mf-{uuid.uuid4().hex[:6]}"
    project = make_project("omr", scope_key=scope)
    (good, truth, _), (wrong, _, _) = omr_items(project, [MODERATE, WRONG])
    assert champion_get(kind="omr", scope_key=scope) is None
    assert not ModelVersion.objects.filter(kind="omr").exists()

    assert inference.predict([good.pk], fill=False)["predicted"] == 1
    prediction = Prediction.objects.get(item=good)
    version = prediction.model_version
    assert version.config["mode"] == model_free.MODE and not version.promotable and version.blocked_reasons
    assert prediction.payload["status"] == "accepted" and prediction.scores["verdict"] == "accept"
    assert len(prediction.scores["symbols"]) > 400 and "detections" not in prediction.scores
    assert champion_get(kind="omr", scope_key=scope) is None   # never made champion by proposing

    # the second item of the scope uses the same version; the wrong page is rejected by the aligner alone
    assert inference.predict([wrong.pk], fill=False)["predicted"] == 1
    assert Prediction.objects.get(item=wrong).model_version_id == version.pk
    assert Prediction.objects.get(item=wrong).payload["status"] == "rejected"
    assert ModelVersion.objects.filter(kind="omr", scope_key=scope).count() == 1
    assert version_compare(candidate_id=version.pk)["gate"]["promotable"] is False
    client.force_login(admin_user)   # the registry and its compare page list it with the reason it never serves
    for url in ("/models/", f"/models/{version.pk}/compare/"):
        page = client.get(url)
        assert page.status_code == 200 and "no trained model" in page.content.decode(), url
    lineage = client.get(f"/models/scope/?kind=omr&scope={scope}").content.decode()
    assert 'data-version="1"' in lineage and model_free.MODE in lineage   # made by no run: its mode says what


def test_a_kind_that_needs_a_model_still_waits_for_one(make_project, generated_items):
    scope = f"line:mf-{uuid.uuid4().hex[:6]}"
    project = make_project("catheter", scope_key=scope)
    (item, _), = generated_items(project, [0])
    assert inference.predict([item.pk], fill=False) == {"predicted": 0, "skipped": 1, "failed": 0}
    assert not ModelVersion.objects.filter(kind="catheter", scope_key=scope).exists()


def test_the_first_detector_champion_takes_over_the_model_free_proposals(make_project, omr_items, admin_user):
    scope = f"publisher:mf-{uuid.uuid4().hex[:6]}"
    project = make_project("omr", scope_key=scope)
    (item, _, _), = omr_items(project, [MODERATE])
    assert triggers.backfill() >= 1              # the sweep's safety net proposes for a scope without a model
    inference.predict([item.pk], fill=False)
    first = Prediction.objects.get(item=item)
    assert first.model_version.config["mode"] == model_free.MODE

    folder = scope_dir("omr", scope) / "detector"
    get_adapter("omr").bootstrap(out_dir=folder, scope_key=scope, size="tiny", budget_s=0, callbacks=[],
                                 log=lambda s: None)
    detector = model_version_register(kind="omr", scope_key=scope, artifact_uri=str(folder),
                                      config={"mode": "bootstrap"})
    champion_promote(version_id=detector.pk, actor=admin_user, reason="test")
    inference.rescore("omr", scope, detector.pk)
    first.refresh_from_db()
    assert first.stale
    inference.predict([item.pk], fill=False)
    assert Prediction.objects.get(item=item, stale=False).model_version_id == detector.pk
