"""Workspace events on the project's socket: a flagged item (and its depth), a new champion of the scope."""
import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection

from webapp.accounts.services import token_for
from webapp.config.asgi import application
from webapp.labeling.services import item_flag, lease_take_next
from webapp.mlops.services import champion_promote, model_version_register

pytestmark = pytest.mark.django_db(transaction=True)
HEADERS = [(b"host", b"localhost")]   # a script's client: its token in the Authorization header


def close_connection():
    connection.close()


async def next_event(communicator, name, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        message = await communicator.receive_json_from(timeout=max(0.1, deadline - asyncio.get_running_loop().time()))
        if message["event"] == name:
            return message


def test_flag_and_champion_change_reach_the_project(make_project, make_item, operator, admin_user):
    project = make_project(scope_key="line:Z")
    other = make_project(scope_key="line:Y")
    item = make_item(project)
    headers = HEADERS + [(b"authorization", f"Token {token_for(user=operator)}".encode())]

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/projects/{project.pk}/", headers=headers)
        assert (await communicator.connect(timeout=5))[0]
        elsewhere = WebsocketCommunicator(application, f"/ws/projects/{other.pk}/", headers=headers)
        assert (await elsewhere.connect(timeout=5))[0]
        await database_sync_to_async(lease_take_next)(project_id=project.pk, user=operator)
        await database_sync_to_async(item_flag)(item_id=item.pk, user=operator, reason="taxonomy_question",
                                                comment="a scratch or a fibre?")
        flagged = await next_event(communicator, "item.flagged")
        assert flagged["payload"]["item"] == item.pk and flagged["payload"]["reason"] == "taxonomy_question"
        assert flagged["payload"]["state"] == "flagged"
        # depth is counted when the coalesced event is sent: one marked before the flag may come first
        while (await next_event(communicator, "queue.depth"))["payload"]["flagged"] != 1:
            pass

        def promote():
            version = model_version_register(kind="catheter", scope_key="line:Z", artifact_uri="catheter/x")
            champion_promote(version_id=version.pk, actor=admin_user, reason="a better model")
            return version

        version = await database_sync_to_async(promote)()
        changed = await next_event(communicator, "champion.changed")
        assert changed["payload"]["to"]["id"] == version.pk and changed["payload"]["action"] == "promote"
        assert changed["payload"]["project"] == project.pk
        assert (await elsewhere.receive_json_from(timeout=5))["event"] == "hello"
        assert await elsewhere.receive_nothing(timeout=1.0)   # another scope's project hears nothing of it
        await communicator.disconnect()
        await elsewhere.disconnect()
        await database_sync_to_async(close_connection)()

    asyncio.run(scenario())
