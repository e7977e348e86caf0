"""Failed sign-ins are limited per user name and address, on the page and on the token endpoint."""
import pytest
from rest_framework.test import APIClient


@pytest.fixture
def fresh_address():
    """A client address no other test has used (the counters live in the shared cache)."""
    import uuid

    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def test_fifty_wrong_passwords_on_the_token_endpoint_meet_429s(operator, fresh_address, settings):
    api = APIClient(REMOTE_ADDR=fresh_address)
    codes = [api.post("/api/v1/auth/token/", {"username": operator.username, "password": f"wrong-{n}"},
                      format="json").status_code for n in range(50)]
    limit = settings.LOUPE_LOGIN_FAILURES_PER_USER
    assert codes[:limit] == [400] * limit and set(codes[limit:]) == {429}
    blocked = api.post("/api/v1/auth/token/", {"username": operator.username, "password": "loupe-pass-123"},
                       format="json")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert blocked.json()["code"] == "too_many_attempts"
    # Another address is not blocked for this user, and the right password works there.
    other = APIClient(REMOTE_ADDR=fresh_address + "1")
    ok = other.post("/api/v1/auth/token/", {"username": operator.username, "password": "loupe-pass-123"}, format="json")
    assert ok.status_code == 200 and ok.json()["token"]


def test_fifty_wrong_passwords_on_the_sign_in_page_meet_429s(client, operator, fresh_address, settings):
    codes = [client.post("/login/", {"username": operator.username, "password": f"wrong-{n}"},
                         REMOTE_ADDR=fresh_address).status_code for n in range(50)]
    limit = settings.LOUPE_LOGIN_FAILURES_PER_USER
    assert codes[:limit] == [200] * limit and set(codes[limit:]) == {429}
    page = client.post("/login/", {"username": operator.username, "password": "loupe-pass-123"},
                       REMOTE_ADDR=fresh_address)
    assert page.status_code == 429 and b"Too many failed sign-ins" in page.content
    assert "_auth_user_id" not in client.session


def test_pages_carry_a_csp_with_a_nonce_matching_their_inline_scripts(client, operator):
    client.force_login(operator)
    page = client.get("/projects/")
    policy = page["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page.content.decode()
    assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
