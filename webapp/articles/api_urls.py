from django.urls import path

from webapp.articles import api

urlpatterns = [
    path("items/<int:pk>/articles/recompute/", api.RecomputeView.as_view(), name="api-articles-recompute"),
]
