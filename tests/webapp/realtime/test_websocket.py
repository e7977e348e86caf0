import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection

from webapp.accounts.services import token_for
from webapp.config.asgi import application
from webapp.labeling.services import lease_take_next, revision_submit

pytestmark = pytest.mark.django_db(transaction=True)
HEADERS = [(b"origin", b"http://localhost"), (b"host", b"localhost")]


def close_connection():
    connection.close()


async def connect(path):
    communicator = WebsocketCommunicator(application, path, headers=HEADERS)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def next_event(communicator, name, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        message = await communicator.receive_json_from(timeout=max(0.1, deadline - asyncio.get_running_loop().time()))
        if message["event"] == name:
            return message


def test_anonymous_clients_are_refused(make_project):
    project = make_project()

    async def scenario():
        communicator, connected, code = await connect(f"/ws/projects/{project.pk}/")
        assert not connected and code == 4401

    asyncio.run(scenario())


def test_project_group_receives_lease_and_revision_events(make_project, make_item, operator):
    project = make_project()
    item = make_item(project)
    token = token_for(user=operator)

    async def scenario():
        communicator, connected, _ = await connect(f"/ws/projects/{project.pk}/?token={token}")
        assert connected
        assert (await communicator.receive_json_from(timeout=5))["event"] == "hello"
        lease = await database_sync_to_async(lease_take_next)(project_id=project.pk, user=operator)
        taken = await next_event(communicator, "lease.taken")
        assert taken["payload"]["item"] == item.pk and taken["payload"]["holder"] == operator.username
        depth = await next_event(communicator, "queue.depth")
        assert depth["payload"]["leased"] == 1
        await database_sync_to_async(revision_submit)(
            item_id=lease.item_id, user=operator, annotation={"verdict": "ok", "shots": [{"defects": []}]},
            base_revision=None)
        submitted = await next_event(communicator, "revision.submitted")
        assert submitted["payload"]["revision"] == 1
        await communicator.disconnect()
        await database_sync_to_async(close_connection)()

    asyncio.run(scenario())


def test_unknown_project_is_refused(operator):
    token = token_for(user=operator)

    async def scenario():
        _, connected, code = await connect(f"/ws/projects/999999/?token={token}")
        assert not connected and code == 4404

    asyncio.run(scenario())
