from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "webapp.assets"
    label = "assets"
