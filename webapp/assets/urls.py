"""Asset files for signed-in users. The tile URLs follow the deep-zoom convention: a viewer given
``…/tiles.dzi`` fetches ``…/tiles_files/<level>/<col>_<row>.jpeg``."""
from django.urls import path

from webapp.assets import views

urlpatterns = [
    path("assets/<int:asset_id>/original", views.asset_original, name="asset-original"),
    path("assets/<int:asset_id>/working", views.asset_working, name="asset-working"),
    path("assets/<int:asset_id>/tiles.dzi", views.asset_dzi, name="asset-dzi"),
    path("assets/<int:asset_id>/tiles_files/<int:level>/<int:col>_<int:row>.jpeg", views.asset_tile,
         name="asset-tile"),
]
