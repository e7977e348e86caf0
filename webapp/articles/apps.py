from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "webapp.articles"
    label = "articles"
    verbose_name = "Newspaper articles"

    def ready(self) -> None:
        from webapp.articles.kind import SPEC
        from webapp.labeling.kinds import register_kind

        register_kind(SPEC)
