"""Outbox handlers of the core app: content-free notification e-mails."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from core.outbox.handlers import outbox_handler
from core.outbox.models import OutboxMessage


@outbox_handler("mail.notify")
def notification_email_send(message: OutboxMessage) -> None:
    """Send a notice to a Haven user in their own language: a code and a link, nothing about a person."""
    user = get_user_model().objects.filter(pk=message.payload["user_id"], is_active=True).first()
    if user is None or not user.email:
        return  # nobody to tell any more: delivered, by design, to no one
    link_path = message.payload.get("link_path") or ""
    notice = message.payload["notice"]
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {"link": settings.HAVEN_BASE_URL.rstrip("/") + link_path if link_path else ""}
        subject = " ".join(render_to_string(f"emails/{notice}_subject.txt", context).split())
        body = render_to_string(f"emails/{notice}_body.txt", context)
    EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"X-Haven-Outbox-Id": str(message.pk), "Auto-Submitted": "auto-generated"},
    ).send()
