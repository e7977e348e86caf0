"""A NUL character in a query parameter or a form field is refused with a 400 saying so, on pages as on the API.

PostgreSQL stores and compares no NUL in text: before, the model scope and audit pages handed such a
parameter to the database, which failed (a 500)."""
from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PAGE_QUERIES = [
    "/models/scope/?kind=cath%00eter", "/models/scope/?kind=catheter&scope=line%00A",
    "/models/audit/?actor=ad%00min", "/models/audit/?kind=%00", "/models/audit/?scope=line:%00",
    "/models/audit/?actor=%00&format=csv", "/models/audit/?kind=catheter%00&format=csv&trail=thresholds",
    "/models/audit/?scope=%00&format=csv", "/models/audit/?x%00=1",
]


@pytest.fixture
def admin_page(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("url", PAGE_QUERIES)
def test_pages_refuse_a_nul_in_the_query(admin_page, url):
    response = admin_page.get(url)
    assert response.status_code == 400, (url, response.status_code)
    assert response["Content-Type"].startswith("text/plain")
    assert "NUL character" in response.content.decode()


def test_the_api_refuses_it_in_json_with_the_same_words(admin_user, api_for):
    response = api_for(admin_user).get("/api/v1/models/?kind=cath%00eter")
    assert response.status_code == 400 and "NUL character" in response.json()["detail"]


def test_a_page_form_with_a_nul_is_refused_and_nothing_is_stored(admin_page, make_project, make_item, operator):
    from webapp.labeling.models import Flag

    item = make_item(make_project())
    flag = Flag.objects.create(item=item, author=operator, reason="other", return_state="new")
    response = admin_page.post(f"/flags/{flag.pk}/resolve/", {"comment": "looks\x00fine"})
    assert response.status_code == 400 and "NUL character" in response.content.decode()
    assert Flag.objects.get(pk=flag.pk).resolved_at is None


def test_clean_queries_still_answer(admin_page):
    assert admin_page.get("/models/scope/?kind=catheter&scope=line:A").status_code == 200
    assert admin_page.get("/models/audit/?actor=admin&format=csv").status_code == 200
