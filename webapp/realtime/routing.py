from django.urls import path, re_path

from webapp.realtime.consumers import EventsConsumer

websocket_urlpatterns = [
    path("ws/projects/<int:project_id>/", EventsConsumer.as_asgi()),
    re_path(r"^ws/(?P<name>overview|mlops)/$", EventsConsumer.as_asgi()),
]
