"""Logging and error reports that carry no identity.

Haven logs ids and codes, never values. As a second line of defence the filter below drops the
arguments of any record that names an identity field, and error reports hide all POST data.
"""

from __future__ import annotations

import contextvars
import logging
import re
import traceback

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


# A Fernet token: version byte 0x80 and a 64-bit timestamp (base64url "gAAAAA..."), then at least
# IV, one block and the HMAC. Haven's ciphertexts must not reach logs either: with a leaked key they are
# plaintext, and a copied token is the material of the oracle PITFALLS.md describes.
FERNET_TOKEN_PATTERN = re.compile(r"gAAAAA[A-Za-z0-9_\-]{60,}={0,2}")

_WITHHELD_IDENTITY = "[log line withheld: it named an identity field] logger=%s"
_WITHHELD_TOKEN = "[log line withheld: it held a value that looks like ciphertext] logger=%s"


def _withheld_reason(text: str) -> str | None:
    if FERNET_TOKEN_PATTERN.search(text):
        return _WITHHELD_TOKEN
    if _identity_pattern().search(text):
        return _WITHHELD_IDENTITY
    return None


class ScrubIdentityFilter(logging.Filter):
    """Replace a record's message by a neutral one when it names an identity field or holds a token.

    The arguments are dropped with the message, and an attached exception whose text would leak is
    reduced to its traceback and type (its message withheld).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        reason = _withheld_reason(message)
        if reason:
            record.msg = reason
            record.args = (record.name,)
        if record.exc_info and record.exc_info[1] is not None:
            exc_type, exc_value, exc_traceback = record.exc_info
            if _withheld_reason(_exception_text(exc_value)):
                record.exc_text = (
                    "Traceback (most recent call last):\n"
                    + "".join(traceback.format_tb(exc_traceback))
                    + f"{exc_type.__module__}.{exc_type.__qualname__}: [message withheld]"
                )
                record.exc_info = None
        return True


def _exception_text(exc_value: BaseException) -> str:
    parts = []
    while exc_value is not None and len(parts) < 10:
        parts.append(f"{exc_value!s} {exc_value.args!r}")
        exc_value = exc_value.__cause__ or exc_value.__context__  # type: ignore[assignment]
    return " ".join(parts)


def _identity_pattern() -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(sorted(map(re.escape, IDENTITY_FIELD_NAMES))) + r")\b")


class HavenExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports never include POST data, cookies or local variables that could hold identity."""

    hidden_settings = re.compile(r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE", flags=re.I)

    def get_post_parameters(self, request):  # type: ignore[no-untyped-def]
        if request is None:
            return {}
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_safe_request_meta(self, request):  # type: ignore[no-untyped-def]
        """Hide the query string and raw URI too: a search term must never reach an error report."""
        meta = super().get_safe_request_meta(request)
        for key in ("QUERY_STRING", "RAW_URI", "REQUEST_URI"):
            if key in meta:
                meta[key] = self.cleansed_substitute
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):  # type: ignore[no-untyped-def]
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def is_active(self, request):  # type: ignore[no-untyped-def]
        return True
