"""Test helpers for every suite: a signed-in client that passed both steps.

    from core.accounts.testing import sign_in
    sign_in(client, user)          # password and code steps done, session timestamps set

Django's `client.force_login(user)` alone gives a session that passed only the password step; Haven's
session policy sends such a session to the code step on every page.
"""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.session_policy import session_start


def confirmed_device(user) -> TOTPDevice:  # type: ignore[no-untyped-def]
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Haven", confirmed=True)
    return device


def sign_in(client: Client, user) -> TOTPDevice:  # type: ignore[no-untyped-def]
    """Sign the client in as the user with a confirmed sign-in app, as if both steps were done."""
    device = confirmed_device(user)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session_start(session)
    session.save()
    return device
