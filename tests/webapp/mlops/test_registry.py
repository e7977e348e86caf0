import pytest
from django.db import IntegrityError, transaction

from webapp.core.errors import Conflict, NotAllowed, ServiceError
from webapp.mlops.models import ChampionAlias, PromotionAudit, TrainingRun
from webapp.mlops.selectors import champion_get
from webapp.mlops.services import (
    champion_promote, champion_rollback, model_version_register, training_run_cancel, training_run_request,
)


def register(scope="publisher:daily", **kw):
    return model_version_register(kind="articles", scope_key=scope, artifact_uri="/tmp/ckpt", **kw)


def test_versions_number_per_scope(db):
    assert [register().number, register().number, register(scope="publisher:other").number] == [1, 2, 1]


def test_promote_and_rollback_with_audit(admin_user, operator):
    v1, v2 = register(), register()
    champion_promote(version_id=v1.pk, actor=admin_user, reason="first")
    champion_promote(version_id=v2.pk, actor=admin_user, reason="better cuts")
    assert champion_get(kind="articles", scope_key="publisher:daily") == v2
    with pytest.raises(NotAllowed):
        champion_promote(version_id=v1.pk, actor=operator, reason="sneaky")
    with pytest.raises(Conflict):
        champion_promote(version_id=v2.pk, actor=admin_user, reason="again")
    audit = champion_rollback(kind="articles", scope_key="publisher:daily", actor=admin_user, reason="regression")
    assert (audit.from_version, audit.to_version, audit.action) == (v2, v1, "rollback")
    assert champion_get(kind="articles", scope_key="publisher:daily") == v1
    assert PromotionAudit.objects.count() == 3


def test_unknown_scope_falls_back_to_the_global_champion(admin_user):
    global_v = register(scope="")
    champion_promote(version_id=global_v.pk, actor=admin_user, reason="global")
    assert champion_get(kind="articles", scope_key="publisher:new") == global_v
    assert champion_get(kind="articles", scope_key="publisher:new", fallback_to_global=False) is None


def test_database_allows_one_champion_per_scope(admin_user):
    v1, v2 = register(), register()
    champion_promote(version_id=v1.pk, actor=admin_user, reason="first model")
    with pytest.raises(IntegrityError), transaction.atomic():
        ChampionAlias.objects.create(kind="articles", scope_key="publisher:daily", model_version=v2)


def test_gate_blocks_regressing_candidates_unless_overridden(admin_user):
    bad = register(promotable=False, blocked_reasons=["publisher:daily cut F1 -3.1 pts"])
    with pytest.raises(Conflict) as caught:
        champion_promote(version_id=bad.pk, actor=admin_user, reason="try")
    assert "cut F1" in str(caught.value)
    with pytest.raises(ServiceError):
        champion_promote(version_id=bad.pk, actor=admin_user, override=True, reason="")
    with pytest.raises(ServiceError) as caught:   # an override needs its own, second reason
        champion_promote(version_id=bad.pk, actor=admin_user, override=True, reason="known label noise")
    assert "override_reason" in str(caught.value)
    with pytest.raises(ServiceError):
        champion_promote(version_id=bad.pk, actor=admin_user, override=True, reason="known label noise",
                         override_reason="known label noise")
    assert not PromotionAudit.objects.exists()
    audit = champion_promote(version_id=bad.pk, actor=admin_user, override=True, reason="known label noise",
                             override_reason="daily's golden pages of May are mislabeled; relabel queued")
    assert audit.override and audit.override_reason.startswith("daily's") and audit.actor == admin_user


def test_one_active_training_run_per_scope(admin_user):
    run = training_run_request(kind="catheter", scope_key="line:A", project_id=None, actor=admin_user)
    with pytest.raises(Conflict):
        training_run_request(kind="catheter", scope_key="line:A", project_id=None, actor=admin_user)
    training_run_cancel(run_id=run.pk, actor=admin_user)
    run.refresh_from_db()
    assert run.state == TrainingRun.State.CANCELLED
    assert training_run_request(kind="catheter", scope_key="line:A", project_id=None, actor=admin_user).pk != run.pk


def test_registry_api(admin_user, operator, api_for):
    v1, v2 = register(), register()
    admin = api_for(admin_user)
    assert admin.post(f"/api/v1/models/{v1.pk}/promote/", {"reason": "go"}, format="json").status_code == 200
    assert api_for(operator).post(f"/api/v1/models/{v2.pk}/promote/", {}, format="json").status_code == 403
    listing = admin.get("/api/v1/models/?kind=articles").json()["results"]
    assert [v["is_champion"] for v in listing] == [False, True]
    assert admin.post("/api/v1/models/rollback/", {"kind": "articles", "scope_key": "publisher:daily",
                                                   "reason": "worse"}, format="json").status_code == 409  # nothing earlier to roll back to
    assert admin.get("/api/v1/promotions/").json()["count"] == 1


def test_moving_the_champion_needs_a_reason_in_the_service_and_the_api(admin_user, api_for):
    v1 = register()
    for blank in ("", "   "):
        with pytest.raises(ServiceError):
            champion_promote(version_id=v1.pk, actor=admin_user, reason=blank)
    admin = api_for(admin_user)
    res = admin.post(f"/api/v1/models/{v1.pk}/promote/", {}, format="json")
    assert res.status_code == 400 and "reason" in res.json()
    assert admin.post(f"/api/v1/models/{v1.pk}/promote/", {"reason": " "}, format="json").status_code == 400
    assert PromotionAudit.objects.count() == 0
    champion_promote(version_id=v1.pk, actor=admin_user, reason="first")
    res = admin.post("/api/v1/models/rollback/", {"kind": "articles", "scope_key": "publisher:daily"}, format="json")
    assert res.status_code == 400
    assert PromotionAudit.objects.count() == 1
