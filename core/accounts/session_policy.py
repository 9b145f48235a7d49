"""What a Haven session holds about time and the second factor, and the rules over it.

Timestamps are whole seconds since the epoch (the session serializer is JSON). Tests move time by
passing `now=` or by editing these stored values, never by freezing the clock.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

SIGNED_IN_AT = "haven_signed_in_at"
LAST_ACTIVITY = "haven_last_activity"
# Set when a user who needs no code signed in with the password alone (HAVEN_MFA_REQUIRED_FOR_ALL off).
WITHOUT_CODE = "haven_without_code"
# Why the last session ended, shown once on the sign-in page (a code, never a name).
SIGN_OUT_NOTICE = "haven_sign_out_notice"
OTP_FAILURES = "haven_otp_failures"
BACKGROUND_HEADER = "HTTP_X_HAVEN_BACKGROUND"

IDLE = "idle"
ABSOLUTE = "absolute"


def _now(now: float | None) -> int:
    return int(now if now is not None else time.time())


def session_start(session: SessionBase, *, now: float | None = None) -> None:
    moment = _now(now)
    session[SIGNED_IN_AT] = moment
    session[LAST_ACTIVITY] = moment


def session_touch(session: SessionBase, *, now: float | None = None) -> None:
    session[LAST_ACTIVITY] = _now(now)


def session_expiry_reason(session: SessionBase, *, now: float | None = None) -> str | None:
    """Return why a signed-in session is over ("idle" or "absolute"), or None while it is valid.

    A session without timestamps is treated as expired (fail closed).
    """
    moment = _now(now)
    signed_in_at = session.get(SIGNED_IN_AT)
    last_activity = session.get(LAST_ACTIVITY)
    if not isinstance(signed_in_at, int) or not isinstance(last_activity, int):
        return ABSOLUTE
    if moment - signed_in_at > settings.HAVEN_SESSION_ABSOLUTE_SECONDS:
        return ABSOLUTE
    if moment - last_activity > settings.HAVEN_SESSION_IDLE_SECONDS:
        return IDLE
    return None


def is_background(request: HttpRequest) -> bool:
    return request.META.get(BACKGROUND_HEADER) == "1"


def session_is_complete(request: HttpRequest) -> bool:
    """Return whether the signed-in user passed every step they need (the code, where required)."""
    from core.accounts.services import mfa_required_for

    user = request.user
    if not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified) and is_verified():
        return True
    return bool(request.session.get(WITHOUT_CODE)) and not mfa_required_for(user)  # type: ignore[arg-type]
