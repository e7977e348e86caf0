"""WebSocket consumers: authenticated users join a project's group, the overview, or the MLOps group."""
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.realtime.events import MLOPS_GROUP, OVERVIEW_GROUP, project_group
from webapp.realtime.selectors import project_exists


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """Pushes ``loupe.event`` messages of one group to the client as JSON: {event, payload, at}."""

    group: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = await self.resolve_group()
        if self.group is None:
            await self.close(code=4404)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"event": "hello", "payload": {"group": self.group, "user": user.get_username()}})

    async def resolve_group(self) -> str | None:
        kwargs = self.scope["url_route"]["kwargs"]
        if "project_id" in kwargs:
            pid = int(kwargs["project_id"])
            return project_group(pid) if await database_sync_to_async(project_exists)(project_id=pid) else None
        return {"overview": OVERVIEW_GROUP, "mlops": MLOPS_GROUP}.get(kwargs.get("name"))

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"event": "pong", "payload": {}})

    async def loupe_event(self, message):
        await self.send_json({"event": message["event"], "payload": message["payload"], "at": message["at"]})
