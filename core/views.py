"""Pages every app shares: the landing page, error pages, the health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, _("The request could not be understood. Please go back and try again."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The reason travels in the exception's message, already translated by the code that refused.
    reason = str(exception) if exception and str(exception) else _("You may not do this.")
    return _error(request, 403, reason)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Never echo the path: it might hold something a user typed.
    return _error(request, 404, _("This page does not exist, or you may not see it."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, _("Something went wrong on our side. Nothing you typed was shown to anyone."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        _(
            "This form had expired or was altered, so it was not sent. Go back, reload the page and try "
            "again; what you typed is still in the form."
        ),
    )


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(request, "core/error.html", {"status": status, "message": message}, status=status)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Tell a load balancer whether this process can reach its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to where their work is: the sign-in page, or their role's dashboard."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    from django.shortcuts import redirect

    from core.accounts.models import active_roles

    roles = active_roles(request.user)
    if len(roles) == 1:
        return redirect("accounts:dashboard", role=roles[0])
    return render(request, "core/home.html", {"roles": roles})
