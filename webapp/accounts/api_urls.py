from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from webapp.accounts.api import MeView

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
]
