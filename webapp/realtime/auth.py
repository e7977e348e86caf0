"""WebSocket authentication, with no secret in the URL (URLs end up in access logs).

- Browsers (and any client) first ``POST /api/v1/ws-ticket/`` (session or API token) and offer the
  single-use ticket as a subprotocol: ``Sec-WebSocket-Protocol: loupe.v1, loupe.ticket.<ticket>``. The
  server answers with ``loupe.v1`` only, never echoing the ticket.
- Other clients may instead send their API token in the handshake's ``Authorization: Token <key>``
  header (headers are not logged).

The session cookie is not used: a socket is opened only with a ticket that a page of this site asked
for, so a foreign page cannot ride a signed-in browser's cookie.
"""
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

SUBPROTOCOL = "loupe.v1"
TICKET_PREFIX = "loupe.ticket."


@database_sync_to_async
def _user_for_ticket(ticket: str):
    from webapp.accounts.services import ws_ticket_redeem

    user_id = ws_ticket_redeem(ticket=ticket)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
    return user or AnonymousUser()


@database_sync_to_async
def _user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token is not None and token.user.is_active else AnonymousUser()


def handshake_header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


class TicketOrTokenAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        user = AnonymousUser()
        tickets = [p[len(TICKET_PREFIX):] for p in scope.get("subprotocols", []) if p.startswith(TICKET_PREFIX)]
        authorization = handshake_header(scope, b"authorization")
        if tickets:
            user = await _user_for_ticket(tickets[0])
        elif authorization.startswith("Token "):
            user = await _user_for_token(authorization[len("Token "):].strip())
        return await self.inner(dict(scope, user=user), receive, send)
