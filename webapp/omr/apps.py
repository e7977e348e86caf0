from django.apps import AppConfig


class OmrConfig(AppConfig):
    name = "webapp.omr"
    label = "omr"
    verbose_name = "Sheet-music alignment"

    def ready(self) -> None:
        from webapp.labeling.kinds import register_kind
        from webapp.omr.kind import SPEC

        register_kind(SPEC)
