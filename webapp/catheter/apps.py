from django.apps import AppConfig


class CatheterConfig(AppConfig):
    name = "webapp.catheter"
    label = "catheter"
    verbose_name = "Catheter defects"

    def ready(self) -> None:
        from webapp.catheter.kind import SPEC
        from webapp.labeling.kinds import register_kind

        register_kind(SPEC)
