"""Outbox handler of counselling: the daily digest e-mail (a count and a link, nothing about a case)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from core.outbox.handlers import is_registered, outbox_handler
from core.outbox.models import OutboxMessage

DIGEST_MAIL_KIND = "casework.counselling_digest_mail"


def counselling_digest_email_send(message: OutboxMessage) -> None:
    """Tell a counsellor, in their language, how many follow-ups wait; idempotent by outbox id."""
    user = get_user_model().objects.filter(pk=message.payload.get("user_id"), is_active=True).first()
    if user is None or not user.email:
        return
    count = int(message.payload.get("count") or 0)
    link_path = str(message.payload.get("link_path") or "")
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "count": count,
            "link": settings.HAVEN_BASE_URL.rstrip("/") + link_path if link_path.startswith("/") else "",
        }
        subject = " ".join(
            render_to_string("emails/casework_counselling_digest_subject.txt", context).split()
        )
        body = render_to_string("emails/casework_counselling_digest_body.txt", context)
    EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"X-Haven-Outbox-Id": str(message.pk), "Auto-Submitted": "auto-generated"},
    ).send()


if not is_registered(DIGEST_MAIL_KIND):
    outbox_handler(DIGEST_MAIL_KIND)(counselling_digest_email_send)
