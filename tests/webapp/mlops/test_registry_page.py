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


def test_golden_set_metrics_read_as_a_table(client, admin_user):
    model_version_register(kind="catheter", scope_key="line:T", artifact_uri="/tmp/t", metrics={
        "primary": "recall", "overall": {"n": 12, "recall": 0.8333333, "precision": 0.5},
        "slices": {"defect:bubble": {"n": 3, "recall": 0.6666}, "verdict:ok": {"n": 9, "recall": 1.0}}})
    client.force_login(admin_user)
    html = client.get("/models/").content.decode()
    assert '<th data-metric="recall">recall</th>' in html and '<th data-metric="precision">' in html
    assert '<td class="num">0.833</td>' in html and '<td class="num">12</td>' in html
    assert "defect:bubble <b>0.667</b>" in html
    assert "{&#x27;" not in html and "{'" not in html      # no Python dict on the page
