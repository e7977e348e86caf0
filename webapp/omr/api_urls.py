from django.urls import path

from webapp.omr import api

urlpatterns = [
    path("items/<int:pk>/omr/recompute/", api.RecomputeView.as_view(), name="api-omr-recompute"),
    path("items/<int:pk>/omr/recompute/<uuid:request_id>/", api.RecomputeResultView.as_view(),
         name="api-omr-recompute-result"),
]
