"""Signing in, the sign-in app, administration of users, roles and teams, and the role dashboards.

Views are thin: authorise (core.accounts.access), call a service, respond.
"""

from __future__ import annotations

import base64
import io
from base64 import b32encode
from urllib.parse import quote

import django_otp
import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.accounts import selectors, services
from core.accounts.access import (
    admin_mfa_reset_get,
    admin_organisation_get,
    admin_role_assignment_get,
    admin_team_get,
    admin_user_get,
)
from core.accounts.forms import (
    ArrangementForm,
    CodeForm,
    ConfirmForm,
    EnrolmentForm,
    HavenPasswordChangeForm,
    InviteForm,
    MfaResetRequestForm,
    RoleRequestForm,
    SignInForm,
    TeamCreateForm,
    TeamMemberForm,
)
from core.accounts.models import Organisation, User, active_roles, has_role
from core.accounts.roles import Role
from core.accounts.session_policy import (
    OTP_FAILURES,
    SIGN_OUT_NOTICE,
    WITHOUT_CODE,
    session_start,
)

MAXIMUM_CODE_FAILURES = 5


def _notice_message(code: str) -> str:
    notices = {
        "idle": _("You were signed out because you were inactive for a while. Sign in again to continue."),
        "absolute": _("You were signed out because your session reached its time limit. Sign in again."),
        "codes": _("You were signed out after too many wrong codes. Sign in again."),
        "enrolled": _("Your sign-in app is set up. Sign in with your password and a new code from the app."),
    }
    return notices.get(code, "")


def _safe_next(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _apply_errors(form, error: ValidationError) -> None:  # type: ignore[no-untyped-def]
    """Show a service's ValidationError on the form, field by field where the form has the field."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _qr_data_uri(text: str) -> str:
    """Return a QR code of the text as a data: URI (the CSP allows data: images; nothing inline runs)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# --- Signing in ----------------------------------------------------------------------------------


class SignInView(auth_views.LoginView):
    """The password step. A user with a sign-in app goes on to the code step."""

    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs):  # type: ignore[no-untyped-def]
        context = super().get_context_data(**kwargs)
        code = self.request.session.pop(SIGN_OUT_NOTICE, "")
        context["notice"] = _notice_message(code) if code else ""
        return context

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        user = form.get_user()
        has_device = services.user_has_confirmed_device(user)
        if not has_device and services.mfa_required_for(user):
            # A password alone never sets up a sign-in app: that needs the admin's one-time link.
            services.sign_in_refused_record(user=user)
            return HttpResponseRedirect(reverse("accounts:mfa_required"))
        auth_login(self.request, user)
        session_start(self.request.session)
        if has_device:
            return HttpResponseRedirect(
                reverse("accounts:verify") + "?" + _next_query(self.get_success_url())
            )
        self.request.session[WITHOUT_CODE] = True
        self.request.session.cycle_key()
        services.sign_in_record(user=user, with_code=False)
        return HttpResponseRedirect(self.get_success_url())


def _next_query(path: str) -> str:
    return "next=" + quote(path, safe="/")


sign_in = sensitive_post_parameters("password")(SignInView.as_view())


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The code step: a code from the sign-in app completes signing in."""
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if user.is_verified():  # type: ignore[union-attr]
        return redirect("core:home")
    if not services.user_has_confirmed_device(user):  # type: ignore[arg-type]
        logout(request)
        return redirect("accounts:mfa_required")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = services.otp_verify(user=user, code=form.cleaned_data["code"])  # type: ignore[arg-type]
        if device is not None:
            django_otp.login(request, device)
            request.session.cycle_key()  # django_otp.login keeps the key: a new one now (PITFALLS.md)
            request.session.pop(OTP_FAILURES, None)
            session_start(request.session)
            services.sign_in_record(user=user, with_code=True)  # type: ignore[arg-type]
            return HttpResponseRedirect(_safe_next(request, reverse("core:home")))
        failures = int(request.session.get(OTP_FAILURES, 0)) + 1
        if failures >= MAXIMUM_CODE_FAILURES:
            logout(request)
            request.session[SIGN_OUT_NOTICE] = "codes"
            return redirect("accounts:login")
        request.session[OTP_FAILURES] = failures
        form.add_error(
            "code", _("That code is not right, or it was already used. Wait for the next code and try again.")
        )
    return render(request, "accounts/verify.html", {"form": form, "next": _safe_next(request, "")})


@require_GET
def mfa_required(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/mfa_required.html")


@sensitive_post_parameters("password", "new_password1", "new_password2", "code")
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest, token: str) -> HttpResponse:
    """Set up a sign-in app through an admin's one-time link: password (or a new one) and the first code."""
    link = selectors.enrolment_link_get(token=token)
    if link is None or not link.is_usable() or link.device is None or not link.user.is_active:
        return render(request, "accounts/enrol_invalid.html", status=404)
    form = EnrolmentForm(request.POST if request.method == "POST" else None, link=link, request=request)
    if request.method == "POST" and form.is_valid():
        try:
            services.mfa_enrol(
                link=link, code=form.cleaned_data["code"], new_password=form.cleaned_data.get("new_password1")
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            if request.user.is_authenticated:
                logout(request)
            request.session[SIGN_OUT_NOTICE] = "enrolled"
            return redirect("accounts:login")
    device = link.device
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    issuer = "Haven"
    # The label is the staff code, never the person's name: the phone may be seen by others.
    otpauth = (
        f"otpauth://totp/{quote(issuer)}:{quote(link.user.staff_code)}?secret={secret}&issuer={quote(issuer)}"
        f"&digits={device.digits}&period={device.step}"
    )
    response = render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr_code": _qr_data_uri(otpauth),
            "secret": secret,
            "staff_code": link.user.staff_code,
            "expires_at": link.expires_at,
        },
    )
    return response


@require_POST
@login_required
def keepalive(request: HttpRequest) -> JsonResponse:
    """The person chose to stay signed in: their request counts as activity."""
    return JsonResponse({"status": "ok"})


def lockout(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:  # type: ignore[no-untyped-def]
    return render(request, "accounts/locked.html", status=429)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = HavenPasswordChangeForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_password_change(
                user=request.user, new_password=form.cleaned_data["new_password1"]
            )  # type: ignore[arg-type]
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            update_session_auth_hash(request, user)  # this session stays; every other one ends
            messages.success(request, _("Your password was changed. Your other sessions were signed out."))
            return redirect("core:home")
    return render(request, "accounts/password_change.html", {"form": form})


# --- Dashboards ----------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest, role: str) -> HttpResponse:
    if role not in Role.values:
        raise Http404
    user: User = request.user  # type: ignore[assignment]
    if not has_role(user, role):
        raise PermissionDenied(_("This dashboard belongs to a role you do not hold."))
    organisation = user.organisation
    context: dict[str, object] = {
        "role": role,
        "role_label": Role(role).label,
        "organisation": organisation,
        "teams": selectors.teams_of(user=user),
        "roles": active_roles(user),
    }
    if role in (Role.ORGANISATION_ADMIN, Role.PARTNER_ADMIN) and organisation is not None:
        context["pending_roles"] = selectors.pending_role_list(organisation=organisation)
        context["pending_resets"] = selectors.pending_mfa_reset_list(organisation=organisation)
        context["users_without_device"] = selectors.users_without_device(organisation=organisation)
    if role == Role.SUPERVISOR:
        context["colleagues"] = selectors.team_colleagues(user=user)
    if role == Role.PROTECTION_OFFICER and organisation is not None:
        context["arrangements"] = selectors.arrangements_served_by(protection_unit=organisation)
    if role in (Role.CASEWORKER, Role.SUPERVISOR, Role.COUNSELLOR):
        from casework.selectors.queues import dashboard_queues  # casework's queues, read for this user

        context["queues"] = dashboard_queues(user=user, role=role)
    if role in (Role.PARTNER_USER, Role.PARTNER_ADMIN):
        from referrals.queries.portal import partner_queues  # the organisation's referral inbox

        context["partner_queues"] = partner_queues(user)
    return render(request, f"accounts/dashboards/{role}.html", context)


# --- Administration ------------------------------------------------------------------------------


@login_required
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    organisation = admin_organisation_get(request.user)  # type: ignore[arg-type]
    return render(
        request,
        "accounts/admin/user_list.html",
        {"organisation": organisation, "users": selectors.user_list(organisation=organisation)},
    )


def _render_issued_link(
    request: HttpRequest, user: User, issued: services.IssuedLink, *, title: str
) -> HttpResponse:
    url = request.build_absolute_uri(issued.path)
    return render(
        request,
        "accounts/admin/enrolment_link.html",
        {
            "managed_user": user,
            "link_url": url,
            "qr_code": _qr_data_uri(url),
            "expires_at": issued.link.expires_at,
            "title": title,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_invite(request: HttpRequest) -> HttpResponse:
    organisation = admin_organisation_get(request.user)  # type: ignore[arg-type]
    form = InviteForm(request.POST if request.method == "POST" else None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = services.user_invite(
                actor=request.user,  # type: ignore[arg-type]
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                language=data["language"],
                roles=[data["role"]] if data["role"] else [],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return _render_issued_link(
                request, invitation.user, invitation.issued_link, title=_("User invited")
            )
    return render(request, "accounts/admin/user_invite.html", {"form": form, "organisation": organisation})


@login_required
@require_GET
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    managed_user = admin_user_get(request.user, pk)  # type: ignore[arg-type]
    assert managed_user.organisation is not None  # noqa: S101
    return render(
        request,
        "accounts/admin/user_detail.html",
        {
            "managed_user": managed_user,
            "assignments": selectors.user_role_assignments(user=managed_user),
            "has_device": services.user_has_confirmed_device(managed_user),
            "role_form": RoleRequestForm(organisation=managed_user.organisation),
            "reset_form": MfaResetRequestForm(),
            "is_self": managed_user.pk == request.user.pk,
        },
    )


@login_required
@require_POST
def role_request(request: HttpRequest, pk: int) -> HttpResponse:
    managed_user = admin_user_get(request.user, pk)  # type: ignore[arg-type]
    assert managed_user.organisation is not None  # noqa: S101
    form = RoleRequestForm(request.POST, organisation=managed_user.organisation)
    if form.is_valid():
        try:
            assignment = services.role_request(
                actor=request.user,
                user=managed_user,
                role=form.cleaned_data["role"],  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            if assignment.status == assignment.Status.PENDING:
                messages.success(request, _("The role waits for a second admin to approve it."))
            else:
                messages.success(request, _("The role is active."))
            return redirect("accounts:user_detail", pk=managed_user.pk)
    return render(
        request,
        "accounts/admin/user_detail.html",
        {
            "managed_user": managed_user,
            "assignments": selectors.user_role_assignments(user=managed_user),
            "has_device": services.user_has_confirmed_device(managed_user),
            "role_form": form,
            "reset_form": MfaResetRequestForm(),
            "is_self": managed_user.pk == request.user.pk,
        },
        status=400,
    )


def _decide(request: HttpRequest, service, obj, success: str) -> HttpResponse:  # type: ignore[no-untyped-def]
    try:
        service(request.user, obj)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
    return redirect(_safe_next(request, reverse("accounts:pending")))


@login_required
@require_POST
def role_approve(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = admin_role_assignment_get(request.user, pk)  # type: ignore[arg-type]
    return _decide(
        request,
        lambda actor, obj: services.role_approve(actor=actor, assignment=obj),
        assignment,
        _("Role approved."),
    )


@login_required
@require_POST
def role_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = admin_role_assignment_get(request.user, pk)  # type: ignore[arg-type]
    return _decide(
        request,
        lambda actor, obj: services.role_refuse(actor=actor, assignment=obj),
        assignment,
        _("Role refused."),
    )


@login_required
@require_POST
def role_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = admin_role_assignment_get(request.user, pk)  # type: ignore[arg-type]
    try:
        services.role_revoke(actor=request.user, assignment=assignment)  # type: ignore[arg-type]
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Role revoked."))
    return redirect("accounts:user_detail", pk=assignment.user_id)


@login_required
@require_http_methods(["GET", "POST"])
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    managed_user = admin_user_get(request.user, pk)  # type: ignore[arg-type]
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_deactivate(actor=request.user, user=managed_user)  # type: ignore[arg-type]
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The user was deactivated and signed out everywhere."))
            return redirect("accounts:user_detail", pk=managed_user.pk)
    return render(
        request, "accounts/admin/user_deactivate.html", {"managed_user": managed_user, "form": form}
    )


@login_required
@require_POST
def enrolment_link_issue(request: HttpRequest, pk: int) -> HttpResponse:
    managed_user = admin_user_get(request.user, pk)  # type: ignore[arg-type]
    try:
        issued = services.mfa_enrolment_link_issue(actor=request.user, user=managed_user)  # type: ignore[arg-type]
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("accounts:user_detail", pk=managed_user.pk)
    return _render_issued_link(request, managed_user, issued, title=_("Enrolment link"))


@login_required
@require_POST
def mfa_reset_request(request: HttpRequest, pk: int) -> HttpResponse:
    managed_user = admin_user_get(request.user, pk)  # type: ignore[arg-type]
    form = MfaResetRequestForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("accounts:user_detail", pk=managed_user.pk)
    try:
        services.mfa_reset_request(actor=request.user, user=managed_user, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The reset waits for a second admin to approve it."))
    return redirect("accounts:user_detail", pk=managed_user.pk)


@login_required
@require_POST
def mfa_reset_approve(request: HttpRequest, pk: int) -> HttpResponse:
    reset = admin_mfa_reset_get(request.user, pk)  # type: ignore[arg-type]
    try:
        issued = services.mfa_reset_approve(actor=request.user, reset=reset)  # type: ignore[arg-type]
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("accounts:pending")
    return _render_issued_link(request, reset.user, issued, title=_("Sign-in app reset"))


@login_required
@require_POST
def mfa_reset_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    reset = admin_mfa_reset_get(request.user, pk)  # type: ignore[arg-type]
    return _decide(
        request,
        lambda actor, obj: services.mfa_reset_refuse(actor=actor, reset=obj),
        reset,
        _("Reset refused."),
    )


@login_required
@require_GET
def pending(request: HttpRequest) -> HttpResponse:
    organisation = admin_organisation_get(request.user)  # type: ignore[arg-type]
    return render(
        request,
        "accounts/admin/pending.html",
        {
            "pending_roles": selectors.pending_role_list(organisation=organisation),
            "pending_resets": selectors.pending_mfa_reset_list(organisation=organisation),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_list(request: HttpRequest) -> HttpResponse:
    organisation = admin_organisation_get(request.user)  # type: ignore[arg-type]
    form = TeamCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(actor=request.user, name=form.cleaned_data["name"])  # type: ignore[arg-type]
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Team created."))
            return redirect("accounts:team_detail", pk=team.pk)
    return render(
        request,
        "accounts/admin/team_list.html",
        {"teams": selectors.team_list(organisation=organisation), "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = admin_team_get(request.user, pk)  # type: ignore[arg-type]
    form = TeamMemberForm(request.POST if request.method == "POST" else None, organisation=team.organisation)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_member_add(actor=request.user, team=team, user=form.cleaned_data["user"])  # type: ignore[arg-type]
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Added to the team."))
            return redirect("accounts:team_detail", pk=team.pk)
    return render(
        request,
        "accounts/admin/team_detail.html",
        {"team": team, "members": team.members.order_by("username"), "form": form},
    )


@login_required
@require_POST
def team_member_remove(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    team = admin_team_get(request.user, pk)  # type: ignore[arg-type]
    member = admin_user_get(request.user, user_pk)  # type: ignore[arg-type]
    try:
        services.team_member_remove(actor=request.user, team=team, user=member)  # type: ignore[arg-type]
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Removed from the team."))
    return redirect("accounts:team_detail", pk=team.pk)


@login_required
@require_http_methods(["GET", "POST"])
def arrangement_list(request: HttpRequest) -> HttpResponse:
    organisation = admin_organisation_get(request.user)  # type: ignore[arg-type]
    can_create = organisation.kind == Organisation.Kind.SUPPORT_SERVICE and has_role(
        request.user, Role.ORGANISATION_ADMIN
    )
    form = ArrangementForm(request.POST if request.method == "POST" else None) if can_create else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(
                _("Only an organisation admin of a support service can record a protection unit arrangement.")
            )
        if form.is_valid():
            try:
                services.arrangement_create(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("Arrangement recorded."))
                return redirect("accounts:arrangement_list")
    return render(
        request,
        "accounts/admin/arrangement_list.html",
        {"arrangements": selectors.arrangement_list(organisation=organisation), "form": form},
    )
