from django.urls import path

from webapp.mlops import api

urlpatterns = [
    path("models/", api.ModelVersionListView.as_view(), name="api-models"),
    path("models/<int:pk>/", api.ModelVersionDetailView.as_view(), name="api-model"),
    path("models/<int:pk>/promote/", api.PromoteView.as_view(), name="api-model-promote"),
    path("models/<int:pk>/compare/", api.CompareView.as_view(), name="api-model-compare"),
    path("models/<int:pk>/threshold/", api.ThresholdView.as_view(), name="api-model-threshold"),
    path("models/lineage/", api.ScopeLineageView.as_view(), name="api-model-lineage"),
    path("models/rollback/", api.RollbackView.as_view(), name="api-model-rollback"),
    path("monitoring/", api.MonitoringView.as_view(), name="api-monitoring"),
    path("promotions/", api.PromotionAuditListView.as_view(), name="api-promotions"),
    path("training-runs/", api.TrainingRunListView.as_view(), name="api-training-runs"),
    path("training-runs/<int:pk>/", api.TrainingRunDetailView.as_view(), name="api-training-run"),
    path("training-runs/<int:pk>/cancel/", api.TrainingRunCancelView.as_view(), name="api-training-run-cancel"),
    path("training-triggers/", api.TrainingTriggersView.as_view(), name="api-training-triggers"),
]
