"""WebSockets: tickets and tokens (never in the URL), close codes, and the feeds each role may join."""
import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from rest_framework.test import APIClient

from webapp.accounts.services import token_for
from webapp.config.asgi import application
from webapp.labeling.services import lease_take_next, revision_submit

pytestmark = pytest.mark.django_db(transaction=True)
BROWSER = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
SCRIPT = [(b"host", b"localhost")]  # a non-browser client sends no Origin


def close_connection():
    connection.close()


def ticket_for(user) -> str:
    client = APIClient()
    client.force_login(user)
    response = client.post("/api/v1/ws-ticket/")
    assert response.status_code == 201 and response.json()["expires_in"] == 30
    return response.json()["ticket"]


async def open_socket(path, *, ticket=None, token=None, headers=BROWSER):
    """(communicator, hello or None, close code or None): the socket is accepted either way; a refusal
    follows as a close frame with its code."""
    headers = list(headers) + ([(b"authorization", f"Token {token}".encode())] if token else [])
    subprotocols = ["loupe.v1", f"loupe.ticket.{ticket}"] if ticket else None
    communicator = WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)
    connected, subprotocol = await communicator.connect(timeout=5)
    assert connected and subprotocol == ("loupe.v1" if ticket else None)
    first = await communicator.receive_output(timeout=5)
    if first["type"] == "websocket.close":
        return communicator, None, first["code"]
    import json

    return communicator, json.loads(first["text"]), None


async def close_code(path, **auth):
    communicator, hello, code = await open_socket(path, **auth)
    if hello is not None:
        await communicator.disconnect()
    return code if hello is None else "open"


async def next_event(communicator, name, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        message = await communicator.receive_json_from(timeout=max(0.1, deadline - asyncio.get_running_loop().time()))
        if message["event"] == name:
            return message


async def depth_until(communicator, field, value, timeout=5.0):
    """The first ``queue.depth`` whose ``field`` is ``value``. Depth is counted when the coalesced event is
    sent, so one marked earlier (the item's creation, say) may still arrive with the count from before."""
    while True:
        depth = await next_event(communicator, "queue.depth", timeout)
        if depth["payload"][field] == value:
            return depth


def test_no_ticket_no_token_and_a_token_in_the_url_are_refused_4401(make_project, operator):
    project = make_project()
    token = token_for(user=operator)

    async def scenario():
        assert await close_code(f"/ws/projects/{project.pk}/") == 4401
        # The API token in the query string is no longer read (it ended up in access logs).
        assert await close_code(f"/ws/projects/{project.pk}/?token={token}") == 4401
        assert await close_code(f"/ws/projects/{project.pk}/", ticket="made-up") == 4401

    asyncio.run(scenario())


def test_a_ticket_opens_one_socket_once(make_project, operator):
    project = make_project()
    ticket = ticket_for(operator)

    async def scenario():
        communicator, hello, _ = await open_socket(f"/ws/projects/{project.pk}/", ticket=ticket)
        assert hello == {"event": "hello", "payload": {"group": f"project-{project.pk}", "user": operator.username,
                                                       "champion": None}}
        await communicator.disconnect()
        assert await close_code(f"/ws/projects/{project.pk}/", ticket=ticket) == 4401  # spent
        await database_sync_to_async(close_connection)()

    asyncio.run(scenario())


def test_an_expired_ticket_is_refused(make_project, operator, monkeypatch):
    from webapp.accounts import services

    monkeypatch.setattr(services, "WS_TICKET_SECONDS", 1)
    project = make_project()
    ticket = services.ws_ticket_issue(user=operator)
    time.sleep(1.2)

    async def scenario():
        assert await close_code(f"/ws/projects/{project.pk}/", ticket=ticket) == 4401

    asyncio.run(scenario())


def test_tickets_need_a_signed_in_user():
    assert APIClient().post("/api/v1/ws-ticket/").status_code in (401, 403)


def test_a_script_uses_its_token_in_a_header_without_faking_an_origin(make_project, operator):
    project = make_project()
    token = token_for(user=operator)

    async def scenario():
        communicator, hello, _ = await open_socket(f"/ws/projects/{project.pk}/", token=token, headers=SCRIPT)
        assert hello["event"] == "hello"
        await communicator.send_json_to({"type": "ping"})
        assert (await communicator.receive_json_from(timeout=5))["event"] == "pong"
        await communicator.disconnect()
        await database_sync_to_async(close_connection)()

    asyncio.run(scenario())


def test_a_page_of_another_origin_is_refused_4403(make_project, operator):
    project = make_project()
    ticket = ticket_for(operator)

    async def scenario():
        foreign = [(b"origin", b"https://evil.example"), (b"host", b"localhost")]
        assert await close_code(f"/ws/projects/{project.pk}/", ticket=ticket, headers=foreign) == 4403

    asyncio.run(scenario())


# Sockets × roles: the same table as the API (project.view per project, mlops.feed, project.list).
ROLES = ["none", "outsider", "operator", "reviewer", "admin"]
PROJECT_FEED = {"none": 4404, "outsider": 4404, "operator": "open", "reviewer": "open", "admin": "open"}
MLOPS_FEED = {"none": 4403, "outsider": 4403, "operator": 4403, "reviewer": 4403, "admin": "open"}


@pytest.mark.parametrize("role", ROLES)
def test_feeds_by_role(role, make_project, make_user):
    project = make_project()
    make_project(members=False)  # the outsider is an operator there, not in ``project``
    user = make_user("operator", member=False) if role == "outsider" else make_user(role)
    if role == "outsider":
        from webapp.accounts.services import project_member_add
        from webapp.labeling.models import Project

        project_member_add(project_id=Project.objects.exclude(pk=project.pk).get().pk, user=user)
    tickets = [ticket_for(user) for _ in range(4)]

    async def scenario():
        assert await close_code(f"/ws/projects/{project.pk}/", ticket=tickets[0]) == PROJECT_FEED[role]
        assert await close_code("/ws/mlops/", ticket=tickets[1]) == MLOPS_FEED[role]
        assert await close_code("/ws/overview/", ticket=tickets[2]) == "open"  # filtered, see below
        assert await close_code("/ws/projects/999999/", ticket=tickets[3]) == 4404
        await database_sync_to_async(close_connection)()

    asyncio.run(scenario())


def test_the_overview_carries_only_the_users_own_projects(make_project, make_item, make_user):
    mine, theirs = make_project(), make_project(members=False)
    make_item(mine), make_item(theirs)
    operator = make_user("operator")
    stranger = make_user("operator", member=False)
    from webapp.accounts.services import project_member_add

    project_member_add(project_id=theirs.pk, user=stranger)
    ticket = ticket_for(operator)

    async def scenario():
        communicator, hello, _ = await open_socket("/ws/overview/", ticket=ticket)
        assert hello["payload"]["group"] == "overview"
        await database_sync_to_async(lease_take_next)(project_id=theirs.pk, user=stranger)
        await database_sync_to_async(lease_take_next)(project_id=mine.pk, user=operator)
        # Depth is counted when the coalesced event is sent, so an event marked earlier (the item's creation)
        # may still arrive with the count before the lease; the lease's own count follows.
        seen = []
        while not seen or seen[-1]["leased"] != 1:
            seen.append((await next_event(communicator, "queue.depth"))["payload"])
        while not await communicator.receive_nothing(timeout=1.0):
            message = await communicator.receive_json_from()
            if message["event"] == "queue.depth":
                seen.append(message["payload"])
        assert {p["project"] for p in seen} == {mine.pk}  # nothing of ``theirs``, ever
        await communicator.disconnect()
        await database_sync_to_async(close_connection)()

    asyncio.run(scenario())


def test_project_group_receives_lease_and_revision_events(make_project, make_item, operator):
    project = make_project()
    item = make_item(project)
    ticket = ticket_for(operator)

    async def scenario():
        communicator, hello, _ = await open_socket(f"/ws/projects/{project.pk}/", ticket=ticket)
        assert hello["event"] == "hello"
        lease = await database_sync_to_async(lease_take_next)(project_id=project.pk, user=operator)
        taken = await next_event(communicator, "lease.taken")
        assert taken["payload"]["item"] == item.pk and taken["payload"]["holder"] == operator.username
        await depth_until(communicator, "leased", 1)
        await database_sync_to_async(revision_submit)(
            item_id=lease.item_id, user=operator, annotation={"verdict": "ok", "shots": [{"defects": []}]},
            base_revision=None)
        submitted = await next_event(communicator, "revision.submitted")
        assert submitted["payload"]["revision"] == 1
        await communicator.disconnect()
        await database_sync_to_async(close_connection)()

    asyncio.run(scenario())


def test_a_project_feed_says_its_champion_on_connect(make_project, operator, admin_user):
    """A page whose socket reconnects learns of a promotion it missed while away (the workspace compares)."""
    from webapp.mlops.services import champion_promote, model_version_register

    project = make_project("catheter", scope_key="line:H")
    version = model_version_register(kind="catheter", scope_key="line:H", artifact_uri="/m/h1")
    champion_promote(version_id=version.pk, actor=admin_user, reason="first model")
    ticket = ticket_for(operator)

    async def scenario():
        communicator, hello, _ = await open_socket(f"/ws/projects/{project.pk}/", ticket=ticket)
        assert hello["payload"]["champion"] == {"id": version.pk, "number": 1, "scope_key": "line:H"}
        await communicator.disconnect()
        await database_sync_to_async(close_connection)()

    asyncio.run(scenario())
