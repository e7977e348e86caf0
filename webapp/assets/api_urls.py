from django.urls import path

from webapp.assets import api

urlpatterns = [
    path("assets/", api.AssetUploadAPIView.as_view(), name="api-asset-upload"),
    path("assets/<int:pk>/", api.AssetDetailAPIView.as_view(), name="api-asset-detail"),
    path("imports/<int:pk>/", api.ZipImportDetailAPIView.as_view(), name="api-import"),
]
