"""Secrets put in a URL's query string (the legacy ``?token=`` of a WebSocket URL, a token pasted into a
link) are refused for authentication, and must not reach the access log either.

The ASGI server logs the request from the very scope it hands to the application (uvicorn's access line and
its ``"WebSocket …" [accepted]`` line read ``scope["query_string"]`` when they are written), so the value is
redacted in that scope, in place, before anything else runs. No view reads such a parameter.
"""
from __future__ import annotations

from urllib.parse import unquote_to_bytes

SECRET_PARAMETERS = {b"token", b"access_token", b"ticket"}
REDACTED = b"redacted"


def redact_query(query: bytes) -> bytes:
    """``query`` with the value of every secret parameter (by name, case and percent-encoding aside) replaced."""
    if not query:
        return query
    parts = []
    for part in query.split(b"&"):
        name, equals, _ = part.partition(b"=")
        if equals and unquote_to_bytes(name.replace(b"+", b" ")).lower() in SECRET_PARAMETERS:
            part = name + b"=" + REDACTED
        parts.append(part)
    return b"&".join(parts)


class RedactSecretQuery:
    """ASGI wrapper: redacts secret query parameters in the scope the server logs from."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope.get("query_string"):
            scope["query_string"] = redact_query(scope["query_string"])  # in place: the server's own dict
        return await self.app(scope, receive, send)
