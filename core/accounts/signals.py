"""Receivers that record signing in and out, and stamp the session's start (also for force_login)."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from core.accounts.session_policy import session_start


@receiver(user_logged_in, dispatch_uid="haven_session_start")
def _session_start_on_login(sender, request, user, **kwargs):  # type: ignore[no-untyped-def]
    if request is not None and hasattr(request, "session"):
        session_start(request.session)


@receiver(user_logged_out, dispatch_uid="haven_sign_out_record")
def _record_sign_out(sender, request, user, **kwargs):  # type: ignore[no-untyped-def]
    from core.accounts.services import sign_out_record

    if user is not None and getattr(user, "is_authenticated", False):
        sign_out_record(user=user)


@receiver(user_login_failed, dispatch_uid="haven_sign_in_failure_record")
def _record_sign_in_failure(sender, credentials, request=None, **kwargs):  # type: ignore[no-untyped-def]
    from core.accounts.services import sign_in_failure_record

    sign_in_failure_record(username=(credentials or {}).get("username"))


@receiver(user_locked_out, dispatch_uid="haven_lockout_record")
def _record_lockout(sender, request, username, ip_address, **kwargs):  # type: ignore[no-untyped-def]
    from core.accounts.services import lockout_record

    lockout_record(username=username, scope="username_and_ip")
