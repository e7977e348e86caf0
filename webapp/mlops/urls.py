from django.urls import path

from webapp.mlops import views

urlpatterns = [
    path("models/", views.registry_page, name="registry"),
]
