from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Haven core")

    def ready(self) -> None:
        from core import checks  # noqa: F401  (registers system checks)
        from core.crypto import checks as crypto_checks  # noqa: F401  (encrypted fields and keys)
