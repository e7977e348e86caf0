"""A crafted link must not make a signed-in admin's browser call other endpoints (issue: ?lease= once
reached the heartbeat URL unchecked and promoted a model with the admin's session)."""
import pytest

from webapp.mlops.models import ChampionAlias, PromotionAudit, TrainingRun
from webapp.mlops.services import model_version_register, training_run_request

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_crafted_lease_in_an_item_link_calls_nothing_but_the_page(login, asgi_server, make_project, make_item,
                                                                   make_user):
    project = make_project()
    item = make_item(project)
    admin = make_user("admin", username="ada")
    version = model_version_register(kind=project.kind, scope_key=project.scope_key, artifact_uri="/tmp/x")
    run = training_run_request(kind="articles", scope_key="publisher:x", project_id=None, actor=admin)
    page = login("ada")
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    for target in (f"../models/{version.pk}/promote/%23", f"../training-runs/{run.pk}/cancel/%23",
                   f"../projects/{project.pk}/take-next/%23", f"../items/{item.pk}/repredict/%23"):
        # The page has started when it asks for its live feed's ticket; anything it would send with the
        # crafted value (a heartbeat) comes before or right after that.
        with page.expect_request(lambda r: r.url.endswith("/api/v1/ws-ticket/"), timeout=30000):
            page.goto(f"{asgi_server}/items/{item.pk}/?lease={target}")
        page.wait_for_selector("#item-state")
        page.wait_for_timeout(800)
    # The page's only POST is for its live feed's WebSocket ticket.
    assert [url for url in posts if not url.endswith("/api/v1/ws-ticket/")] == [] and posts
    assert not ChampionAlias.objects.exists() and not PromotionAudit.objects.exists()
    run.refresh_from_db()
    assert run.state == TrainingRun.State.QUEUED
    item.refresh_from_db()
    assert item.state == "new"
