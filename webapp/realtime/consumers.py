"""WebSocket consumers: a user joins a project's group, the overview, or the MLOps group, as the
permission table allows.

A refused socket is accepted and then closed with one of these codes, so that every client sees the
code (a socket closed before it is accepted reaches the client as an HTTP 403 and code 1006):

- 4401: not authenticated (no ticket or token, or a ticket that expired or was used already)
- 4403: not allowed (the role lacks the action, e.g. the MLOps feed for non-admins; or a browser page
  of another origin)
- 4404: no such project, or not one of the user's projects (the two are not told apart)
"""
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from webapp.accounts.permissions import Refused, check, visible_project_ids
from webapp.realtime.auth import SUBPROTOCOL, handshake_header
from webapp.realtime.events import MLOPS_GROUP, OVERVIEW_GROUP, project_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


def _origin_allowed(scope) -> bool:
    """No Origin: not a browser (a script, a service), fine. An Origin: one of ALLOWED_HOSTS."""
    origin = handshake_header(scope, b"origin")
    if not origin:
        return True
    host = origin.split("://", 1)[-1].split("/", 1)[0]
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def _authorize(user, kwargs) -> tuple[str, set[int] | None]:
    """The group to join and, for the overview, the projects whose events the user may see."""
    if "project_id" in kwargs:
        check(user, "project.view", target="project", value=kwargs["project_id"])
        return project_group(int(kwargs["project_id"])), None
    if kwargs.get("name") == "mlops":
        check(user, "mlops.feed")
        return MLOPS_GROUP, None
    check(user, "project.list")
    return OVERVIEW_GROUP, visible_project_ids(user)


def _project_champion(group: str) -> dict | None:
    """The champion serving a project's scope, told in the project feed's hello: a page whose socket
    dropped and reconnected learns of a promotion it missed while away."""
    from webapp.labeling.selectors_loop import project_find
    from webapp.mlops.selectors import champion_get

    if not group.startswith("project-"):
        return None
    project = project_find(project_id=int(group.split("-", 1)[1]))
    version = champion_get(kind=project.kind, scope_key=project.scope_key) if project else None
    return None if version is None else {"id": version.pk, "number": version.number, "scope_key": version.scope_key}


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """Pushes ``loupe.event`` messages of one group to the client as JSON: {event, payload, at}."""

    group: str | None = None
    visible: set[int] | None = None

    async def connect(self):
        offered = self.scope.get("subprotocols") or []
        await self.accept(SUBPROTOCOL if SUBPROTOCOL in offered else None)
        user = self.scope.get("user")
        if not _origin_allowed(self.scope):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            group, visible = await database_sync_to_async(_authorize)(user, self.scope["url_route"]["kwargs"])
        except Refused as refused:
            code = {401: CLOSE_UNAUTHENTICATED, 404: CLOSE_NOT_FOUND}.get(refused.status, CLOSE_FORBIDDEN)
            await self.close(code=code)
            return
        self.group, self.visible = group, visible
        await self.channel_layer.group_add(self.group, self.channel_name)
        hello = {"group": self.group, "user": user.get_username()}
        if "project_id" in self.scope["url_route"]["kwargs"]:
            hello["champion"] = await database_sync_to_async(_project_champion)(self.group)
        await self.send_json({"event": "hello", "payload": hello})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if self.group and isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"event": "pong", "payload": {}})

    async def loupe_event(self, message):
        if self.visible is not None and message["payload"].get("project") not in self.visible:
            return  # the overview carries every project's depth; each user gets their own projects'
        await self.send_json({"event": message["event"], "payload": message["payload"], "at": message["at"]})
