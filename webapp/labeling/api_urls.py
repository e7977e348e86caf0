from django.urls import path

from webapp.labeling import api
from webapp.labeling.api_upload import ProjectUploadAPIView

urlpatterns = [
    path("projects/", api.ProjectListView.as_view(), name="api-projects"),
    path("projects/<int:pk>/", api.ProjectDetailView.as_view(), name="api-project"),
    path("projects/<int:pk>/items/", api.ItemListView.as_view(), name="api-project-items"),
    path("projects/<int:pk>/take-next/", api.TakeNextView.as_view(), name="api-take-next"),
    path("projects/<int:pk>/upload/", ProjectUploadAPIView.as_view(), name="project-upload-api"),
    path("projects/<int:pk>/export/", api.ExportView.as_view(), name="api-export"),
    path("leases/<uuid:token>/heartbeat/", api.LeaseHeartbeatView.as_view(), name="api-lease-heartbeat"),
    path("leases/<uuid:token>/release/", api.LeaseReleaseView.as_view(), name="api-lease-release"),
    path("items/<int:pk>/", api.ItemDetailView.as_view(), name="api-item"),
    path("items/<int:pk>/revisions/", api.RevisionListView.as_view(), name="api-item-revisions"),
    path("items/<int:pk>/reviews/", api.ReviewCreateView.as_view(), name="api-item-reviews"),
    path("items/<int:pk>/predictions/", api.PredictionListView.as_view(), name="api-item-predictions"),
    path("items/<int:pk>/repredict/", api.RepredictView.as_view(), name="api-item-repredict"),
]
