from __future__ import annotations

from django.db.models import QuerySet

from core.notifications.models import Notification


def notification_list(*, user: object, unread_only: bool = False) -> QuerySet[Notification]:
    if not getattr(user, "is_active", False):
        return Notification.objects.none()
    queryset = Notification.objects.filter(recipient=user).order_by("-created_at")
    return queryset.filter(read_at__isnull=True) if unread_only else queryset


def notification_unread_count(*, user: object) -> int:
    return notification_list(user=user, unread_only=True).count()
