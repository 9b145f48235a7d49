from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "core.outbox"
    label = "outbox"
    verbose_name = _("Outbox")

    def ready(self) -> None:
        # Every app's outbox handlers live in its `handlers` module; register them all at start-up.
        autodiscover_modules("handlers")
