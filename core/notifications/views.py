from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.notifications.kinds import notification_label
from core.notifications.selectors import notification_list
from core.notifications.services import notification_mark_read


@login_required
def notification_list_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(notification_list(user=request.user), 50).get_page(request.GET.get("page"))
    for notification in page:
        notification.label = notification_label(notification.kind)  # type: ignore[attr-defined]
    return render(request, "notifications/list.html", {"page": page})


@require_POST
@login_required
def notification_read_view(request: HttpRequest, pk: int) -> HttpResponse:
    notification_mark_read(user=request.user, notification_id=pk)
    return redirect("notifications:list")
