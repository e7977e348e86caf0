"""URL map: pages, the versioned API under /api/v1/, the schema and its interactive docs.

Every view declares its permission action (``webapp.accounts.permissions``); the Django admin site keeps
its own staff-and-model-permission checks."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from webapp.accounts.permissions import declare

api_v1 = [
    path("", include("webapp.accounts.api_urls")),
    path("", include("webapp.assets.api_urls")),
    path("", include("webapp.labeling.api_urls")),
    path("", include("webapp.mlops.api_urls")),
    path("", include("webapp.articles.api_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", declare(SpectacularAPIView.as_view(), "public"), name="api-schema"),
    path("api/docs/", declare(SpectacularSwaggerSplitView.as_view(url_name="api-schema"), "public"), name="api-docs"),
    path("api/redoc/", declare(SpectacularRedocView.as_view(url_name="api-schema"), "public"), name="api-redoc"),
    path("", include("webapp.core.urls")),
    path("", include("webapp.accounts.urls")),
    path("", include("webapp.assets.urls")),
    path("", include("webapp.labeling.urls")),
    path("", include("webapp.mlops.urls")),
]

handler404 = "webapp.core.views.not_found"
handler500 = "webapp.core.views.server_error"
