"""The signed-in user, project members (admins), WebSocket tickets."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts import selectors, services
from webapp.accounts.permissions import roles_held
from webapp.accounts.roles import is_admin
from webapp.accounts.serializers import MembershipAddSerializer, MembershipSerializer, MeSerializer, WsTicketSerializer
from webapp.accounts.services import login_blocked, login_failed, token_for
from webapp.core.serializers import StrictCharField, StrictIntegerField


class MeView(APIView):
    permission_action = "account.self"

    @extend_schema(responses=MeSerializer, summary="The signed-in user, their roles and projects")
    def get(self, request):
        user = request.user
        projects = {} if is_admin(user) else selectors.membership_roles(user=user)
        return Response({"username": user.get_username(), "roles": sorted(roles_held(user)),
                         "projects": {str(pid): role for pid, role in projects.items()}})


class ProjectMembersView(APIView):
    permission_action = "project.manage"
    permission_target = "project:pk"

    @extend_schema(responses=MembershipSerializer(many=True), summary="The project's members and their roles")
    def get(self, request, pk: int):
        return Response(MembershipSerializer(selectors.membership_list(project_id=pk), many=True).data)

    @extend_schema(request=MembershipAddSerializer, responses={201: MembershipSerializer},
                   summary="Add a member (or change a member's role)")
    def post(self, request, pk: int):
        body = MembershipAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = services.project_member_add(project_id=pk, user=body.validated_data["user"],
                                                 role=body.validated_data.get("role"))
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class ProjectMemberView(APIView):
    permission_action = "project.manage"
    permission_target = "project:pk"

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="Not a member.")},
                   summary="Remove a member")
    def delete(self, request, pk: int, user_id: int):
        services.project_member_remove(project_id=pk, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WsTicketView(APIView):
    permission_action = "account.self"

    @extend_schema(request=None, responses={201: WsTicketSerializer},
                   summary="A short-lived, single-use ticket to open a WebSocket (never put the API token in a URL)")
    def post(self, request):
        ticket = services.ws_ticket_issue(user=request.user)
        return Response({"ticket": ticket, "expires_in": services.WS_TICKET_SECONDS}, status=status.HTTP_201_CREATED)


class TokenSerializer(serializers.Serializer):
    token = StrictCharField()


class TooManyAttemptsSerializer(serializers.Serializer):
    code = StrictCharField()
    detail = StrictCharField()
    retry_after = StrictIntegerField()


class TokenView(ObtainAuthToken):
    """Exchange a user name and password for the user's API token; failed attempts are limited."""

    @extend_schema(request=AuthTokenSerializer, summary="Get the API token of a user name and password",
                   responses={200: TokenSerializer,
                              400: OpenApiResponse(description="Wrong user name or password."),
                              429: TooManyAttemptsSerializer})
    def post(self, request, *args, **kwargs):
        username = str(request.data.get("username", "")) if hasattr(request.data, "get") else ""
        ip = request.META.get("REMOTE_ADDR", "")
        wait = login_blocked(username=username, ip=ip)
        if wait:
            return Response({"code": "too_many_attempts", "retry_after": wait,
                             "detail": f"too many failed sign-ins; try again in {wait} seconds"},
                            status=429, headers={"Retry-After": str(wait)})
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            login_failed(username=username, ip=ip)
            return Response(serializer.errors, status=400)
        return Response({"token": token_for(user=serializer.validated_data["user"])})
