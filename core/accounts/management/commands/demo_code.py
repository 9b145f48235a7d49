"""Print the current sign-in code of a demo user: the documented way to sign in locally without a phone.

Works only where settings.HAVEN_DEMO_SIGN_IN is on (local settings) and only for demo users.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.models import User


class Command(BaseCommand):
    help = "Print the current sign-in code of a demo user (local demo only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, **options: object) -> None:
        if not getattr(settings, "HAVEN_DEMO_SIGN_IN", False):
            raise CommandError(
                "demo_code is refused: HAVEN_DEMO_SIGN_IN is off (it is on in local settings only)."
            )
        username = str(options["username"])
        if not username.startswith("demo."):
            raise CommandError("demo_code works only for the demo users that seed_demo creates.")
        user = User.objects.filter(username=username, is_active=True).first()
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first() if user else None
        if device is None:
            raise CommandError("No demo user with a sign-in app has that username. Run seed_demo first.")
        now = time.time()
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
        remaining = device.step - int(now - device.t0) % device.step
        self.stdout.write(f"{code:0{device.digits}d}")
        self.stderr.write(f"(valid for about {remaining} s more; each code works once)")
