from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("Casework")

    def ready(self) -> None:
        # Register receivers, outbox handlers and audit labels at start-up, whatever imports first.
        import casework.services.summaries  # noqa: F401
