from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_role_groups(sender, **kwargs):  # type: ignore[no-untyped-def]
    from core.accounts.services import role_groups_sync

    role_groups_sync()


class AccountsConfig(AppConfig):
    name = "core.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from core.accounts import services, signals  # noqa: F401  (receivers and audit labels)

        # After every app's migrations (and permissions) exist: groups hold only add/action permissions.
        post_migrate.connect(_sync_role_groups, dispatch_uid="haven_role_groups_sync")
