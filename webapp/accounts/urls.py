from django.contrib.auth import views as auth_views
from django.urls import path

from webapp.accounts.permissions import declare
from webapp.accounts.views import LoginView

urlpatterns = [
    path("login/", declare(LoginView.as_view(), "public", methods=("GET", "POST")), name="login"),
    path("logout/", declare(auth_views.LogoutView.as_view(), "public", methods=("POST",)), name="logout"),
]
