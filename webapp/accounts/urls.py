from django.contrib.auth import views as auth_views
from django.urls import path

from webapp.accounts.permissions import declare

urlpatterns = [
    path("login/", declare(auth_views.LoginView.as_view(template_name="accounts/login.html"), "public",
                           methods=("GET", "POST")),
         name="login"),
    path("logout/", declare(auth_views.LogoutView.as_view(), "public", methods=("POST",)), name="logout"),
]
