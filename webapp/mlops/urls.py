from django.urls import path

from webapp.mlops import views, views_golden

urlpatterns = [
    path("models/", views.registry_page, name="registry"),
    path("models/scope/", views.scope_page, name="registry-scope"),
    path("models/monitoring/", views.monitoring_page, name="monitoring"),
    path("models/audit/", views.audit_page, name="promotion-audit"),
    path("models/<int:pk>/compare/", views.compare_page, name="model-compare"),
    path("models/<int:pk>/compare/items/<int:item_id>/", views_golden.golden_item_page, name="model-golden-item"),
    path("models/<int:pk>/compare/items/<int:item_id>/proposals/", views_golden.golden_item_proposals_page,
         name="model-golden-item-proposals"),
    path("models/<int:pk>/threshold/", views.threshold_page, name="model-threshold"),
    path("models/<int:pk>/promote/", views.promote_page, name="model-promote"),
    path("models/training/", views.training_page, name="training"),
    path("models/training/triggers/", views.training_triggers_page, name="training-triggers"),
    path("models/training-runs/<int:pk>/", views.training_run_page, name="training-run"),
    path("models/training-runs/<int:pk>/cancel/", views.training_run_cancel_page, name="training-run-cancel"),
]
