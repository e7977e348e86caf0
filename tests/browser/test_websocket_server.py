"""WebSockets against a real ASGI server (daphne), from a plain client that sends no Origin: a ticket as
subprotocol, the API token in a header, and refusals that reach the client with their close codes."""
import json
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from webapp.accounts.services import token_for

pytestmark = [pytest.mark.slow]


def ticket(base: str, token: str) -> str:
    request = urllib.request.Request(base + "/api/v1/ws-ticket/", method="POST",
                                     headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())["ticket"]


def closed_with(url: str, **options) -> int:
    with connect(url, open_timeout=10, **options) as ws, pytest.raises(ConnectionClosed) as caught:
        ws.recv(timeout=10)
    return caught.value.rcvd.code


def test_tickets_tokens_and_close_codes_over_a_real_server(asgi_server, make_project, make_user):
    project = make_project()
    operator = make_user("operator")
    token = token_for(user=operator)
    ws_base = asgi_server.replace("http://", "ws://")
    feed = f"{ws_base}/ws/projects/{project.pk}/"

    one = ticket(asgi_server, token)
    with connect(feed, subprotocols=["loupe.v1", f"loupe.ticket.{one}"], open_timeout=10) as ws:
        assert ws.subprotocol == "loupe.v1"  # the ticket is never echoed back
        assert json.loads(ws.recv(timeout=10))["event"] == "hello"
    assert closed_with(feed, subprotocols=["loupe.v1", f"loupe.ticket.{one}"]) == 4401  # used once already

    with connect(feed, additional_headers={"Authorization": f"Token {token}"}, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["event"] == "hello"

    assert closed_with(feed) == 4401
    assert closed_with(f"{feed}?token={token}") == 4401
    assert closed_with(f"{ws_base}/ws/mlops/", additional_headers={"Authorization": f"Token {token}"}) == 4403
    assert closed_with(f"{ws_base}/ws/projects/999999/", additional_headers={"Authorization": f"Token {token}"}) == 4404
    assert closed_with(feed, additional_headers={"Authorization": f"Token {token}"}, origin="https://evil.example") == 4403
