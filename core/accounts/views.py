from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST


@require_POST
@login_required
def keepalive(request: HttpRequest) -> JsonResponse:
    """The person chose to stay signed in: their request counts as activity."""
    return JsonResponse({"status": "ok"})


def lockout(request: HttpRequest, credentials: dict | None = None, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
    return render(request, "accounts/locked.html", status=429)
