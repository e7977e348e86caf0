"""ASGI entry point: HTTP through Django, WebSockets through Channels (ticket or token auth; the
consumer checks the Origin and the permission table)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from webapp.realtime.auth import TicketOrTokenAuthMiddleware  # noqa: E402
from webapp.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": TicketOrTokenAuthMiddleware(URLRouter(websocket_urlpatterns)),
})
