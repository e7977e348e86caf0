from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from webapp.accounts import api
from webapp.accounts.permissions import declare

urlpatterns = [
    path("auth/token/", declare(obtain_auth_token, "public", methods=("POST",)), name="api-token"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("ws-ticket/", api.WsTicketView.as_view(), name="api-ws-ticket"),
    path("projects/<int:pk>/members/", api.ProjectMembersView.as_view(), name="api-project-members"),
    path("projects/<int:pk>/members/<int:user_id>/", api.ProjectMemberView.as_view(), name="api-project-member"),
]
