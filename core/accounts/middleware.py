"""Session policy: the code step, idle and absolute limits (PITFALLS.md "django-otp, django-axes, sessions").

Runs after AuthenticationMiddleware and OTPMiddleware, before MessageMiddleware (so a reason for signing
out travels in the new session, read by the sign-in page).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode

from core.accounts.session_policy import (
    SIGN_OUT_NOTICE,
    is_background,
    session_expiry_reason,
    session_is_complete,
    session_touch,
)

# Pages a session that passed the password step but not the code step may reach.
ALLOWED_BEFORE_CODE = frozenset(
    {
        "accounts:verify",
        "accounts:logout",
        "accounts:login",
        "accounts:enrol",
        "accounts:mfa_required",
        "set_language",
        "healthz",
    }
)


def _view_name(request: HttpRequest) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


def _wants_json(request: HttpRequest) -> bool:
    return is_background(request) or _view_name(request) == "accounts:keepalive"


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        if request.path_info.startswith(settings.STATIC_URL):
            return self.get_response(request)

        reason = session_expiry_reason(request.session)
        if reason is not None:
            return self._sign_out(request, reason)

        if not session_is_complete(request) and _view_name(request) not in ALLOWED_BEFORE_CODE:
            if _wants_json(request):
                return JsonResponse({"status": "code_required"}, status=401)
            verify_url = reverse("accounts:verify")
            if request.method == "GET":
                verify_url += "?" + urlencode({"next": request.path})
            return HttpResponseRedirect(verify_url)

        if not is_background(request):
            session_touch(request.session)
        return self.get_response(request)

    def _sign_out(self, request: HttpRequest, reason: str) -> HttpResponse:
        from core.accounts.services import session_expiry_record

        session_expiry_record(user=request.user, limit=reason)  # type: ignore[arg-type]
        wants_json = _wants_json(request)
        logout(request)
        request.session[SIGN_OUT_NOTICE] = reason
        if wants_json:
            return JsonResponse({"status": "signed_out"}, status=401)
        return HttpResponseRedirect(reverse("accounts:login"))
