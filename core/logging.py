"""Logging and error reports that carry no identity.

Haven logs ids and codes, never values. As a second line of defence the filter below drops the
arguments of any record that names an identity field, and error reports hide all POST data.
"""

from __future__ import annotations

import contextvars
import logging
import re

from django.views.debug import SafeExceptionReporterFilter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Field names that hold identity anywhere in Haven. Apps add theirs with `register_identity_fields`.
IDENTITY_FIELD_NAMES: set[str] = {
    "legal_name",
    "preferred_name",
    "other_names",
    "date_of_birth",
    "email",
    "phone",
    "address",
    "nationality",
    "identity_document",
    "online_handles",
    "narrative",
    "notes",
    "password",
    "otp_token",
}


def register_identity_fields(*names: str) -> None:
    IDENTITY_FIELD_NAMES.update(names)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class ScrubIdentityFilter(logging.Filter):
    """Replace a record's message by a neutral one when it mentions an identity field by name."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        pattern = _identity_pattern()
        if pattern.search(message):
            record.msg = "[log line withheld: it named an identity field] logger=%s"
            record.args = (record.name,)
        return True


def _identity_pattern() -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(sorted(map(re.escape, IDENTITY_FIELD_NAMES))) + r")\b")


class HavenExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports never include POST data, cookies or local variables that could hold identity."""

    hidden_settings = re.compile(r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE", flags=re.I)

    def get_post_parameters(self, request):  # type: ignore[no-untyped-def]
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    def get_traceback_frame_variables(self, request, tb_frame):  # type: ignore[no-untyped-def]
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def is_active(self, request):  # type: ignore[no-untyped-def]
        return True
