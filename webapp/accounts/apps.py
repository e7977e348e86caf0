from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "webapp.accounts"
    label = "accounts"

    def ready(self) -> None:
        from webapp.accounts.access_cache import connect_signals
        from webapp.accounts.services import roles_ensure

        connect_signals()
        post_migrate.connect(lambda **kwargs: roles_ensure(), dispatch_uid="loupe-roles", weak=False)
