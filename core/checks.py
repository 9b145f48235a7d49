"""System checks that keep Haven's own rules from drifting."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security)
def check_guardian_settings(app_configs, **kwargs):  # type: ignore[no-untyped-def]
    errors = []
    if getattr(settings, "ANONYMOUS_USER_NAME", "AnonymousUser") is not None:
        errors.append(
            Error(
                "ANONYMOUS_USER_NAME must be None: Haven has no anonymous object permissions.",
                id="haven.E001",
            )
        )
    if not getattr(settings, "GUARDIAN_RETURN_404", False):
        errors.append(
            Error(
                "GUARDIAN_RETURN_404 must be True: refusals must look like missing objects.", id="haven.E002"
            )
        )
    if settings.MESSAGE_STORAGE != "django.contrib.messages.storage.session.SessionStorage":
        errors.append(
            Error("Flash messages must be stored in the session, never in a cookie.", id="haven.E003")
        )
    return errors
