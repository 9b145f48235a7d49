"""Telling a Haven user that something waits for them: in Haven, and by a content-free e-mail."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from core.notifications.kinds import is_registered
from core.notifications.models import Notification
from core.outbox.services import notify_by_email

REFERENCE_PATTERN = re.compile(r"^[A-Z]{2,3}-\d{4}-\d{6}$")


@transaction.atomic
def notification_send(
    *,
    recipients: Iterable[object],
    kind: str,
    reference: str = "",
    link_path: str = "",
    is_urgent: bool = False,
    email: bool = True,
) -> list[Notification]:
    """Notify each active recipient in Haven and, if asked, by e-mail; a reference and a link only.

    The e-mail uses the templates `emails/notice_subject.txt` / `emails/notice_body.txt` (or
    `emails/urgent_notice_*` when urgent), which say that something waits and give the link.
    """
    if not is_registered(kind):
        raise LookupError(f"Unknown notification kind {kind!r}.")
    if reference and not REFERENCE_PATTERN.match(reference):
        raise ValueError("A notification carries a case or referral reference, nothing else.")
    if link_path and not link_path.startswith("/"):
        raise ValueError("A notification link is a path on Haven itself.")
    sent: list[Notification] = []
    seen: set[int] = set()
    for recipient in recipients:
        if recipient.pk in seen or not getattr(recipient, "is_active", False):  # type: ignore[attr-defined]
            continue
        seen.add(recipient.pk)  # type: ignore[attr-defined]
        sent.append(
            Notification.objects.create(
                recipient=recipient, kind=kind, reference=reference, link_path=link_path, is_urgent=is_urgent
            )
        )
        if email:
            notify_by_email(
                user=recipient, notice="urgent_notice" if is_urgent else "notice", link_path=link_path
            )
    return sent


@transaction.atomic
def notification_mark_read(*, user: object, notification_id: int) -> bool:
    return bool(
        Notification.objects.filter(pk=notification_id, recipient=user, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    )
