from django.urls import path

from webapp.labeling import views, views_agreement, views_quality
from webapp.labeling.views_upload import project_upload_page

urlpatterns = [
    path("projects/", views.project_list, name="project-list"),
    path("projects/<slug:slug>/", views.project_queue, name="project-queue"),
    path("projects/<slug:slug>/upload/", project_upload_page, name="project-upload"),
    path("projects/<slug:slug>/take-next/", views.project_take_next, name="project-take-next"),
    path("projects/<slug:slug>/flags/", views.project_flags, name="project-flags"),
    path("projects/<slug:slug>/quality/", views_quality.project_quality_page, name="project-quality"),
    path("projects/<slug:slug>/quality/controls/", views_quality.project_control_mark, name="project-control-mark"),
    path("projects/<slug:slug>/quality/settings/", views_quality.project_review_settings,
         name="project-review-settings"),
    path("projects/<slug:slug>/review/", views_quality.project_review_queue_page, name="project-review-queue"),
    path("items/<int:pk>/suspect/resolve/", views_quality.suspect_resolve_page, name="suspect-resolve"),
    path("items/<int:pk>/answers/", views_agreement.answer_pair_page, name="answer-pair"),
    path("items/<int:pk>/answers/resolve/", views_agreement.answer_pair_resolve_page, name="answer-pair-resolve"),
    path("flags/<int:pk>/resolve/", views.flag_resolve, name="flag-resolve"),
    path("me/work/", views.my_work, name="my-work"),
    path("items/<int:pk>/", views.item_page, name="item-page"),
    path("predictions/<int:pk>/maps/<int:shot>/<str:layer>.png", views.prediction_map, name="prediction-map"),
]
