from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts.roles import user_roles
from webapp.accounts.services import login_blocked, login_failed, token_for


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The signed-in user and their roles")
    def get(self, request):
        return Response({"username": request.user.get_username(), "roles": sorted(user_roles(request.user))})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class TooManyAttemptsSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    retry_after = serializers.IntegerField()


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
