from webapp.mlops.services import champion_promote, model_version_register


def test_registry_page_is_for_admins_and_shows_champion(client, admin_user, operator):
    v1 = model_version_register(kind="catheter", scope_key="line:A", artifact_uri="/tmp/a",
                                metrics={"overall": {"recall@p90": 0.97}})
    model_version_register(kind="catheter", scope_key="line:A", artifact_uri="/tmp/b", promotable=False,
                           blocked_reasons=["defect:bubble recall -4 pts"])
    champion_promote(version_id=v1.pk, actor=admin_user, reason="first model")
    client.force_login(operator)
    assert client.get("/models/").status_code == 403
    client.force_login(admin_user)
    html = client.get("/models/").content.decode()
    assert "catheter / line:A" in html and "champion" in html and "blocked" in html and "recall@p90" in html
