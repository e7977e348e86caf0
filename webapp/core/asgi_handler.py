"""Django's ASGI handler with the whole synchronous request path in one thread hop.

Every middleware and view of Loupe is synchronous. In its async mode Django runs each middleware that
can do both (all of Django's own) on the event loop and hops into the sync thread for each of its
``process_request`` / ``process_view`` / ``process_response`` calls, and back: about fifteen hops per
request through this stack, measured at over 2 ms of CPU per request (more than the view's own work on
the queue's hot path). Here the middleware chain and the view run as in a WSGI server, in one call on the
thread that owns the database connection; reading the body, sending the response (streams included)
and the request signals stay Django's.
"""
from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self):
        super().__init__()
        self.load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
