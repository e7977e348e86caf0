import csv
import io

import pytest

from tests.webapp.mlops.golden import evaluation, pair
from webapp.mlops import comparison
from webapp.mlops.models import ChampionAlias, PromotionAudit
from webapp.mlops.selectors import champion_get, version_compare
from webapp.mlops.services import champion_promote, model_version_register


def _scope(admin_user, *, n_items=60, promotable=False, items=True):
    cand_eval, champ_eval = pair(n_items)
    if not items:
        cand_eval.pop("items"), champ_eval.pop("items")
    champion = model_version_register(kind="catheter", scope_key="line:A", artifact_uri="/m/1", metrics=champ_eval)
    champion_promote(version_id=champion.pk, actor=admin_user, reason="first model")
    metrics = {**cand_eval, "golden": {"items": n_items, "samples": n_items},
               "champion": {"version": champion.pk, **champ_eval},
               "training": {"loss_curve": [[1, 0.9], [2, 0.6], [3, 0.4]]}}
    candidate = model_version_register(
        kind="catheter", scope_key="line:A", artifact_uri="/m/2", metrics=metrics, promotable=promotable,
        blocked_reasons=[] if promotable else ["slice defect:bubble: recall 0.000 < champion 0.450 - margin 0.05"],
        config={"parent": champion.pk, "mode": "finetune"})
    return champion, candidate


def test_paired_bootstrap_interval_brackets_the_difference_and_flags_the_regression():
    cand, champ = pair(300)
    result = comparison.version_comparison(cand, champ, margin=0.05)
    rows = {r["slice"]: r for r in result["rows"]}
    assert result["per_item"] and list(rows)[0] == "overall"
    bubble, scratch = rows["defect:bubble"], rows["defect:scratch"]
    assert bubble["regresses"] and bubble["significant"] and bubble["interval"][1] < 0
    assert bubble["interval"][0] <= bubble["delta"] <= bubble["interval"][1]
    assert not scratch["regresses"] and scratch["delta"] > 0 and scratch["interval"][0] > 0
    assert bubble["interval_method"].startswith("paired")
    # every bubble item the champion got right is a disagreement, largest difference first
    bubble_items = [r for r in cand["items"] if "defect:bubble" in r["slices"]]
    right_before = {r["item"] for r in champ["items"] if "defect:bubble" in r["slices"] and r["value"] == 1}
    listed = {d["item"] for d in result["disagreements"] if "defect:bubble" in d["slices"]}
    assert listed == right_before and len(bubble_items) > len(listed) > 0


def test_aggregates_only_give_a_parametric_interval():
    cand = {"primary": "recall", "overall": {"n": 400, "recall": 0.9}, "slices": {}}
    champ = {"primary": "recall", "overall": {"n": 400, "recall": 0.8}, "slices": {}}
    row = comparison.version_comparison(cand, champ, margin=0.05)["rows"][0]
    assert row["interval_method"].startswith("parametric") and 0 < row["interval"][0] < 0.1 < row["interval"][1]
    assert row["significant"] and not row["regresses"]


def test_compare_page_shows_slices_gate_plots_and_disagreements(client, admin_user, operator):
    champion, candidate = _scope(admin_user)
    client.force_login(operator)
    assert client.get(f"/models/{candidate.pk}/compare/").status_code == 403
    client.force_login(admin_user)
    html = client.get(f"/models/{candidate.pk}/compare/").content.decode()
    assert f"v{candidate.number} against v{champion.number}" in html
    assert "Gate: blocked" in html and "slice defect:bubble: recall 0.000" in html
    assert 'data-slice="defect:bubble" class="regresses significant"' in html and "beyond margin" in html
    assert html.count("<svg") == 4   # slices, precision-recall, confusion matrix, loss curve
    assert 'aria-label="precision-recall curves"' in html and "<?xml" not in html
    assert f'<a href="/models/{candidate.pk}/compare/items/' in html and "paired bootstrap" in html


def test_compare_is_cached_per_version_pair(admin_user, django_assert_max_num_queries):
    champion, candidate = _scope(admin_user)
    first = version_compare(candidate_id=candidate.pk)
    with django_assert_max_num_queries(3):   # versions and champion only: rows and plots from the cache
        again = version_compare(candidate_id=candidate.pk)
    assert again["comparison"] == first["comparison"] and again["plots"] == first["plots"]
    against_itself = version_compare(candidate_id=candidate.pk, against_id=candidate.pk)
    assert against_itself["warnings"] and against_itself["comparison"]["rows"][0]["delta"] == 0


def test_compare_without_per_item_results_says_so(client, admin_user):
    _, candidate = _scope(admin_user, items=False)
    client.force_login(admin_user)
    html = client.get(f"/models/{candidate.pk}/compare/").content.decode()
    assert "per-item golden results are not stored" in html and "parametric bootstrap" in html
    assert 'aria-label="precision-recall curves"' not in html and html.count("<svg") == 2


def test_promote_from_the_compare_page_needs_reasons(client, admin_user):
    champion, candidate = _scope(admin_user)
    client.force_login(admin_user)
    url = f"/models/{candidate.pk}/promote/"
    assert client.post(url, {"reason": ""}).status_code == 400
    refused = client.post(url, {"reason": "better on scratches"})
    assert refused.status_code == 409 and "not promotable" in refused.content.decode()
    no_second = client.post(url, {"reason": "better on scratches", "override": "on"})
    assert no_second.status_code == 400 and "second reason" in no_second.content.decode()
    assert champion_get(kind="catheter", scope_key="line:A").pk == champion.pk
    done = client.post(url, {"reason": "better on scratches", "override": "on",
                             "override_reason": "bubble golden items are under relabeling"})
    assert done.status_code == 302 and done["Location"].endswith("?promoted=1")
    assert ChampionAlias.objects.get(kind="catheter", scope_key="line:A").model_version_id == candidate.pk
    audit = PromotionAudit.objects.first()
    assert (audit.actor, audit.override, audit.reason, audit.override_reason) == (
        admin_user, True, "better on scratches", "bubble golden items are under relabeling")
    assert client.get(url).status_code == 405


def test_rollback_is_audited_with_actor_and_reason(admin_user):
    from webapp.mlops.services import champion_rollback

    champion, candidate = _scope(admin_user, promotable=True)
    champion_promote(version_id=candidate.pk, actor=admin_user, reason="better overall")
    back = champion_rollback(kind="catheter", scope_key="line:A", actor=admin_user, reason="operators report misses")
    assert (back.action, back.from_version, back.to_version, back.actor) == (
        "rollback", candidate, champion, admin_user)
    assert champion_get(kind="catheter", scope_key="line:A") == champion


def test_audit_page_filters_and_exports_csv(client, admin_user, make_user):
    champion, candidate = _scope(admin_user, promotable=True)
    other_admin = make_user("admin", username="second-admin")
    champion_promote(version_id=candidate.pk, actor=other_admin, reason="better, with a comma, and \"quotes\"")
    client.force_login(admin_user)
    html = client.get("/models/audit/?actor=second-admin").content.decode()
    assert "better, with a comma" in html and "first model" not in html
    assert "better, with a comma" in client.get("/models/audit/?scope=&kind=catheter").content.decode()   # blank: any
    assert "No entries match" in client.get("/models/audit/?scope=(global)").content.decode()
    assert "first model" in client.get("/models/audit/?scope=line:A&until=2999-01-01").content.decode()
    assert client.get("/models/audit/?since=yesterday").status_code == 400
    assert client.get("/models/audit/?action=delete").status_code == 400
    response = client.get("/models/audit/?kind=catheter&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["id", "created_at", "action"] and len(rows) == 3
    assert rows[1][8] == 'better, with a comma, and "quotes"' and rows[1][7] == "second-admin"
    assert len(list(csv.reader(io.StringIO(client.get("/models/audit/?format=csv&action=rollback")
                                           .content.decode())))) == 1


def test_threshold_and_trigger_trails_export_as_csv(client, admin_user, make_project):
    from webapp.mlops.services import threshold_set, training_triggers_update

    _, candidate = _scope(admin_user)
    threshold_set(version_id=candidate.pk, value=0.35, actor=admin_user, reason="recall, first", basis="recall >= 0.95")
    project = make_project(kind="catheter", name="Line A")
    training_triggers_update(project_id=project.pk, actor=admin_user, reason="busier line",
                             train_after_corrections=25, auto_promote=True)
    client.force_login(admin_user)
    html = client.get("/models/audit/?kind=catheter").content.decode()
    assert 'href="?kind=catheter&amp;format=csv&amp;trail=thresholds"' in html and "trail=triggers" in html

    rows = list(csv.reader(io.StringIO(client.get("/models/audit/?kind=catheter&format=csv&trail=thresholds")
                                       .content.decode())))
    assert rows[0] == ["id", "created_at", "kind", "scope_key", "version", "value", "basis", "actor", "reason"]
    assert [r[2:] for r in rows[1:]] == [["catheter", "line:A", str(candidate.number), "0.35", "recall >= 0.95",
                                          admin_user.get_username(), "recall, first"]]
    assert len(list(csv.reader(io.StringIO(client.get("/models/audit/?kind=articles&format=csv&trail=thresholds")
                                           .content.decode())))) == 1   # the kind filter applies

    response = client.get("/models/audit/?format=csv&trail=triggers")
    assert response["Content-Disposition"] == 'attachment; filename="trigger-audit.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["id", "created_at", "project", "field", "old", "new", "actor", "reason"]
    assert sorted((r[2], r[3], r[5], r[7]) for r in rows[1:]) == [
        ("Line A", "auto_promote", "True", "busier line"), ("Line A", "train_after_corrections", "25", "busier line")]
    assert client.get("/models/audit/?format=csv&trail=versions").status_code == 400


def test_scope_page_shows_lineage(client, admin_user):
    from webapp.mlops.models import TrainingRun

    champion, candidate = _scope(admin_user)
    run = TrainingRun.objects.create(kind="catheter", scope_key="line:A", trigger="corrections", state="succeeded",
                                     params={"n_new": 12, "n_replay": 24}, requested_by=admin_user)
    candidate.training_run = run
    candidate.save(update_fields=["training_run"])
    client.force_login(admin_user)
    assert client.get("/models/scope/").status_code == 400
    html = client.get("/models/scope/?kind=catheter&scope=line:A").content.decode()
    row = html.split(f'data-version="{candidate.number}"')[1].split("</tr>")[0]
    assert f"v{champion.number}" in row and f"#{run.pk} · corrections" in row and "12 corrections + 24 replayed" in row
    assert "champion" in html.split(f'data-version="{champion.number}"')[1].split("</tr>")[0]


def test_compare_lineage_and_audit_api(admin_user, operator, api_for):
    champion, candidate = _scope(admin_user)
    api = api_for(admin_user)
    body = api.get(f"/api/v1/models/{candidate.pk}/compare/").json()
    assert body["against"]["id"] == champion.pk and body["against"]["is_champion"]
    assert body["primary"] == "recall" and body["per_item"] and body["rows"][0]["slice"] == "overall"
    assert any(r["regresses"] for r in body["rows"]) and body["gate"]["promotable"] is False
    assert "plots" not in body
    assert api.get(f"/api/v1/models/{candidate.pk}/compare/?against=x").status_code == 400
    assert api.get("/api/v1/models/99999/compare/").status_code == 404
    lineage = api.get("/api/v1/models/lineage/?kind=catheter&scope_key=line:A").json()
    assert [r["parent_id"] for r in lineage] == [champion.pk, None] and lineage[1]["is_champion"]
    assert api.get("/api/v1/models/lineage/").status_code == 400
    assert api.post(f"/api/v1/models/{candidate.pk}/promote/", {"reason": "x", "override": True},
                    format="json").status_code == 400
    ok = api.post(f"/api/v1/models/{candidate.pk}/promote/",
                  {"reason": "x", "override": True, "override_reason": "y"}, format="json")
    assert ok.status_code == 200 and ok.json()["override_reason"] == "y"
    assert len(api.get("/api/v1/promotions/?override=true").json()["results"]) == 1
    assert api.get("/api/v1/promotions/?override=maybe").status_code == 400
    assert api_for(operator).get(f"/api/v1/models/{candidate.pk}/compare/").status_code == 403


def test_django_admin_shows_the_registry_read_only(client, admin_user, operator):
    _, candidate = _scope(admin_user)
    client.force_login(admin_user)
    index = client.get("/admin/").content.decode()
    assert "Model versions" in index and "Promotion audits" in index and "Operating thresholds" in index
    assert client.get("/admin/mlops/modelversion/").status_code == 200
    assert client.get(f"/admin/mlops/modelversion/{candidate.pk}/change/").status_code == 200   # a read-only view
    assert client.post(f"/admin/mlops/modelversion/{candidate.pk}/change/", {"number": 9}).status_code == 403
    assert client.get("/admin/mlops/promotionaudit/add/").status_code == 403
    assert client.post(f"/admin/mlops/promotionaudit/{PromotionAudit.objects.first().pk}/delete/",
                       {"post": "yes"}).status_code == 403
    client.force_login(operator)
    assert client.get("/admin/mlops/modelversion/").status_code == 302   # to the admin login


@pytest.mark.parametrize("n", [3])
def test_evaluation_helper_is_consistent(n):
    ev = evaluation({1: ("a", 1, 0.9), 2: ("a", 1, 0.1), 3: ("b", 0, 0.2)})
    assert ev["slices"]["a"]["recall"] == 0.5 and ev["overall"]["n"] == n


def test_threshold_is_chosen_on_the_curve_set_with_a_reason_and_audited(client, admin_user, operator, api_for):
    from webapp.core.errors import NotAllowed, ServiceError
    from webapp.mlops.selectors import operating_point, threshold_current
    from webapp.mlops.services import threshold_set

    _, candidate = _scope(admin_user)
    point = operating_point(version_id=candidate.pk, recall=0.6)
    assert point["recall"] >= 0.6 and 0 < point["threshold"] <= 1
    strict = operating_point(version_id=candidate.pk, precision=0.99)
    assert strict is None or strict["precision"] >= 0.99
    assert operating_point(version_id=candidate.pk, recall=0.6)["threshold"] >= \
        operating_point(version_id=candidate.pk, recall=0.9)["threshold"]
    with pytest.raises(ServiceError):
        threshold_set(version_id=candidate.pk, value=0.4, actor=admin_user, reason=" ")
    with pytest.raises(ServiceError):
        threshold_set(version_id=candidate.pk, value=1.5, actor=admin_user, reason="too high")
    with pytest.raises(NotAllowed):
        threshold_set(version_id=candidate.pk, value=0.4, actor=operator, reason="not mine to choose")
    client.force_login(admin_user)
    html = client.get(f"/models/{candidate.pk}/compare/?recall=0.6").content.decode()
    assert f"threshold <strong>{point['threshold']}</strong>" in html and "checkpoint's own" in html
    assert "a number in (0, 1]" in client.get(f"/models/{candidate.pk}/compare/?recall=2").content.decode()
    assert client.post(f"/models/{candidate.pk}/threshold/", {"value": "0.3", "reason": ""}).status_code == 400
    done = client.post(f"/models/{candidate.pk}/threshold/",
                       {"value": str(point["threshold"]), "reason": "line A must not miss defects",
                        "basis": "recall >= 0.6 on the golden set"})
    assert done.status_code == 302
    current = threshold_current(version_id=candidate.pk)
    assert (current.value, current.actor, current.basis) == (point["threshold"], admin_user,
                                                             "recall >= 0.6 on the golden set")
    api = api_for(admin_user)
    assert api.post(f"/api/v1/models/{candidate.pk}/threshold/", {"value": "x", "reason": "r"},
                    format="json").status_code == 400
    body = api.post(f"/api/v1/models/{candidate.pk}/threshold/", {"value": 0.25, "reason": "r"}, format="json").json()
    assert body["value"] == 0.25 and body["actor"] == admin_user.username
    listed = api.get(f"/api/v1/models/{candidate.pk}/threshold/?recall=0.6").json()
    assert listed["current"]["value"] == 0.25 and len(listed["history"]) == 2
    assert listed["operating_point"]["threshold"] == point["threshold"]
    trail = client.get("/models/audit/?kind=catheter").content.decode().split('id="threshold-audit"')[1]
    assert "line A must not miss defects" in trail and "recall &gt;= 0.6 on the golden set" in trail
    assert "No threshold changes match" in client.get("/models/audit/?kind=articles").content.decode()


def _articles_eval(pages: dict[int, tuple[str, int, int, int]]) -> dict:
    """Articles figures as the worker stores them: per page (item id -> publisher, tp, fp, fn), the
    publisher's cut F1 micro-averaged over its pages."""
    items, per = [], {}
    for item, (pub, tp, fp, fn) in sorted(pages.items()):
        items.append({"item": item, "slices": [f"publisher:{pub}"], "value": 2 * tp / (2 * tp + fp + fn),
                      "tp": tp, "fp": fp, "fn": fn})
        per.setdefault(f"publisher:{pub}", []).append((tp, fp, fn))
    per["overall"] = [c for k, v in per.items() for c in v]

    def f1(counts):
        tp, fp, fn = (sum(c[k] for c in counts) for k in range(3))
        return {"pages": len(counts), "cut_f1": 2 * tp / (2 * tp + fp + fn)}

    return {"primary": "cut_f1", "overall": f1(per.pop("overall")), "slices": {k: f1(v) for k, v in per.items()},
            "items": items}


def test_articles_pages_give_paired_intervals_of_the_publishers_micro_f1():
    # the candidate finds every cut of daily-courier's pages (the champion half of them); on
    # weekly-gazette both are the same
    cand = _articles_eval({i: ("daily-courier", 8, 0, 0) if i < 30 else ("weekly-gazette", 5, 1, 1)
                           for i in range(60)})
    champ = _articles_eval({i: ("daily-courier", 4, 0, 4) if i < 30 else ("weekly-gazette", 5, 1, 1)
                            for i in range(60)})
    rows = {r["slice"]: r for r in comparison.version_comparison(cand, champ, margin=0.05)["rows"]}
    courier, gazette = rows["publisher:daily-courier"], rows["publisher:weekly-gazette"]
    assert courier["interval_method"].startswith("paired") and courier["significant"]
    assert courier["delta"] == pytest.approx(1 - 8 / 12, abs=1e-4)
    assert courier["interval"][0] <= courier["delta"] <= courier["interval"][1]
    assert gazette["interval"] == [0.0, 0.0] and not gazette["significant"]
    # mixed pages: the micro F1 (summed counts), not the mean of per-page F1s, is what the interval is of
    mixed_c = _articles_eval({1: ("p", 10, 0, 0), 2: ("p", 0, 0, 1), 3: ("p", 10, 0, 0)})
    mixed_b = _articles_eval({1: ("p", 10, 0, 0), 2: ("p", 0, 0, 1), 3: ("p", 10, 0, 0)})
    assert comparison.version_comparison(mixed_c, mixed_b, margin=0.05)["rows"][0]["interval"] == [0.0, 0.0]


def test_articles_threshold_is_the_cut_tau_at_a_required_precision(client, admin_user):
    from webapp.mlops.selectors import operating_point

    curve = {"name": "cut threshold tau", "thresholds": [0.3, 0.4, 0.5, 0.6, 0.7],
             "precision": [0.70, 0.82, 0.90, 0.93, 0.97], "recall": [0.98, 0.95, 0.90, 0.80, 0.60]}
    cand = _articles_eval({i: ("daily-courier", 8, 1, 0) for i in range(10)})
    version = model_version_register(kind="articles", scope_key="publisher:daily-courier", artifact_uri="/m/a1",
                                     metrics={**cand, "threshold_curve": curve})
    point = operating_point(version_id=version.pk, precision=0.9)
    assert (point["threshold"], point["precision"], point["recall"]) == (0.5, 0.9, 0.9)
    assert operating_point(version_id=version.pk, recall=0.95)["threshold"] == 0.4
    assert operating_point(version_id=version.pk, precision=0.99) is None
    client.force_login(admin_user)
    html = client.get(f"/models/{version.pk}/compare/?precision=0.9").content.decode()
    assert "curve over the cut threshold tau" in html and "threshold <strong>0.5</strong>" in html


def test_every_point_on_the_curve_carries_precision_recall_and_the_share_flagged(client, admin_user):
    # five golden items, two defects; two items share the score 0.6: at 0.6 both count
    figures = evaluation({1: ("a", 1, 0.9), 2: ("a", 0, 0.6), 3: ("a", 1, 0.6), 4: ("a", 0, 0.3), 5: ("a", 0, 0.1)})
    points = comparison.operating_points(figures)
    assert [p["threshold"] for p in points] == [0.9, 0.6, 0.3, 0.1]   # highest first, one point per threshold
    assert points[0] == {"threshold": 0.9, "precision": 1.0, "recall": 0.5, "flagged": 0.2}
    assert points[1] == {"threshold": 0.6, "precision": round(2 / 3, 4), "recall": 1.0, "flagged": 0.6}
    assert points[-1]["flagged"] == 1.0 and points[-1]["precision"] == 0.4
    # a curve over another threshold (articles' tau) has no per-item scores: no share flagged
    tau = {"name": "cut threshold tau", "thresholds": [0.3, 0.5], "precision": [0.8, 0.9], "recall": [0.9, 0.7]}
    assert comparison.operating_points({"threshold_curve": tau}) == [
        {"threshold": 0.5, "precision": 0.9, "recall": 0.7, "flagged": None},
        {"threshold": 0.3, "precision": 0.8, "recall": 0.9, "flagged": None}]
    assert comparison.operating_points({"items": [{"item": 1, "value": 1.0}]}) is None
    # the compare page carries them for the live pick
    _, candidate = _scope(admin_user)
    client.force_login(admin_user)
    html = client.get(f"/models/{candidate.pk}/compare/").content.decode()
    assert 'id="curve-points"' in html and 'id="curve-pick"' in html and "js/operating_point.js" in html
