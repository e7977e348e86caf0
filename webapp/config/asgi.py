"""ASGI entry point: HTTP through Django, WebSockets through Channels (ticket or token auth; the
consumer checks the Origin and the permission table)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.config.settings")

import django  # noqa: E402

django.setup(set_prefix=False)

from webapp.core.asgi_handler import SyncChainASGIHandler  # noqa: E402

# HTTP: the middleware chain and the view in one thread hop (see webapp.core.asgi_handler).
django_asgi_app = SyncChainASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from webapp.core.query_redaction import RedactSecretQuery  # noqa: E402
from webapp.core.warmup import WarmOnStartup  # noqa: E402
from webapp.realtime.auth import TicketOrTokenAuthMiddleware  # noqa: E402
from webapp.realtime.routing import websocket_urlpatterns  # noqa: E402

# Lifespan (uvicorn): the process is warmed before it accepts a connection (see webapp.core.warmup).
# Outermost: a token in a URL is redacted in the scope the server logs from (webapp.core.query_redaction).
application = RedactSecretQuery(WarmOnStartup(ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": TicketOrTokenAuthMiddleware(URLRouter(websocket_urlpatterns)),
})))
