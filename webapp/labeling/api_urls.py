from django.urls import path

from webapp.labeling import api, api_quality, api_workspace
from webapp.labeling.api_upload import ProjectUploadAPIView

urlpatterns = [
    path("projects/", api.ProjectListView.as_view(), name="api-projects"),
    path("projects/<int:pk>/", api.ProjectDetailView.as_view(), name="api-project"),
    path("projects/<int:pk>/items/", api.ItemListView.as_view(), name="api-project-items"),
    path("projects/<int:pk>/take-next/", api.TakeNextView.as_view(), name="api-take-next"),
    path("projects/<int:pk>/up-next/", api.UpNextView.as_view(), name="api-up-next"),
    path("projects/<int:pk>/upload/", ProjectUploadAPIView.as_view(), name="project-upload-api"),
    path("projects/<int:pk>/export/", api.ExportView.as_view(), name="api-export"),
    path("leases/<uuid:token>/heartbeat/", api.LeaseHeartbeatView.as_view(), name="api-lease-heartbeat"),
    path("leases/<uuid:token>/release/", api.LeaseReleaseView.as_view(), name="api-lease-release"),
    path("items/<int:pk>/", api.ItemDetailView.as_view(), name="api-item"),
    path("items/<int:pk>/revisions/", api.RevisionListView.as_view(), name="api-item-revisions"),
    path("items/<int:pk>/reviews/", api.ReviewCreateView.as_view(), name="api-item-reviews"),
    path("items/<int:pk>/predictions/", api.PredictionListView.as_view(), name="api-item-predictions"),
    path("items/<int:pk>/repredict/", api.RepredictView.as_view(), name="api-item-repredict"),
    path("items/<int:pk>/draft/", api_workspace.DraftView.as_view(), name="api-item-draft"),
    path("items/<int:pk>/diff/", api_workspace.ReviewDiffView.as_view(), name="api-item-diff"),
    path("items/<int:pk>/skip/", api_workspace.SkipView.as_view(), name="api-item-skip"),
    path("items/<int:pk>/flags/", api_workspace.FlagCreateView.as_view(), name="api-item-flags"),
    path("projects/<int:pk>/flags/", api_workspace.ProjectFlagListView.as_view(), name="api-project-flags"),
    path("me/work/", api_workspace.MyWorkView.as_view(), name="api-my-work"),
    path("flags/<int:pk>/resolve/", api_workspace.FlagResolveView.as_view(), name="api-flag-resolve"),
    path("items/<int:pk>/control/", api_quality.ControlMarkView.as_view(), name="api-item-control"),
    path("items/<int:pk>/suspect/resolve/", api_quality.SuspectResolveView.as_view(), name="api-item-suspect-resolve"),
    path("projects/<int:pk>/operator-quality/", api_quality.OperatorQualityView.as_view(),
         name="api-operator-quality"),
    path("projects/<int:pk>/suspects/", api_quality.SuspectListView.as_view(), name="api-project-suspects"),
    path("projects/<int:pk>/review-queue/", api_quality.ReviewQueueView.as_view(), name="api-project-review-queue"),
    path("projects/<int:pk>/review-routing/", api_quality.ReviewRoutingListView.as_view(),
         name="api-project-review-routing"),
]
