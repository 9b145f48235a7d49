"""Forms for signing in and for administration. Every message is translated."""

from __future__ import annotations

import datetime as dt

from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.accounts.models import MfaResetRequest, Organisation, RoleAssignment, User
from core.accounts.roles import ROLES_BY_ORGANISATION_KIND, Role
from core.accounts.validators import MAXIMUM_PASSWORD_LENGTH

PASSWORD_TOO_LONG = _("This password is too long: use at most %(maximum)d characters.")


def _password_field(label: str, *, autocomplete: str = "current-password") -> forms.CharField:
    # max_length stops an over-long password at field validation, before anything reaches the hasher.
    return forms.CharField(
        label=label,
        strip=False,
        max_length=MAXIMUM_PASSWORD_LENGTH,
        error_messages={"max_length": PASSWORD_TOO_LONG % {"maximum": MAXIMUM_PASSWORD_LENGTH}},
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def ip_failure_count(ip_address: str | None, *, now: dt.datetime | None = None) -> int:
    """Count failed sign-ins from one address across every username within the throttle window."""
    if not ip_address:
        return 0
    since = (now or timezone.now()) - dt.timedelta(seconds=settings.HAVEN_IP_FAILURE_WINDOW_SECONDS)
    total = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return int(total or 0)


def ip_is_throttled(ip_address: str | None, *, now: dt.datetime | None = None) -> bool:
    return ip_failure_count(ip_address, now=now) >= settings.HAVEN_IP_FAILURE_LIMIT


class SignInForm(AuthenticationForm):
    """Username and password. Refuses an over-long password and a throttled address before hashing."""

    password = _password_field(_("Password"))

    error_messages = {
        "invalid_login": _("That username and password do not match. Check them and try again."),
        "inactive": _("This account is not active. Ask your organisation admin."),
        "throttled": _("Signing in from here is paused for a while after too many wrong attempts."),
    }

    def clean(self):  # type: ignore[no-untyped-def]
        from core.accounts.services import lockout_record

        if self.errors.get("password"):
            return self.cleaned_data  # e.g. too long: never hashed, never sent to authenticate()
        if self.request is not None and ip_is_throttled(get_client_ip_address(self.request)):
            self.request.axes_locked_out = True  # type: ignore[attr-defined]  # AxesMiddleware answers
            lockout_record(username=self.cleaned_data.get("username"), scope="ip")
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        return super().clean()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your sign-in app"),
        min_length=6,
        max_length=8,
        error_messages={
            "required": _("Type the code your sign-in app shows."),
            "min_length": _("The code has 6 digits."),
            "max_length": _("The code has 6 digits."),
        },
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "class": "ltr",
            }
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not code.isdigit():
            raise forms.ValidationError(_("The code is made of digits only."), code="digits")
        return code


class EnrolmentForm(CodeForm):
    """First code from the new app, with the user's password (or a new one, for a user who has none)."""

    def __init__(self, *args, link, request, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.link = link
        self.request = request
        self.needs_new_password = not link.user.has_usable_password()
        if self.needs_new_password:
            self.fields["new_password1"] = _password_field(
                _("Choose a password"), autocomplete="new-password"
            )
            self.fields["new_password2"] = _password_field(_("Type it again"), autocomplete="new-password")
        else:
            self.fields["password"] = _password_field(_("Your password"))
        self.order_fields(["password", "new_password1", "new_password2", "code"])

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        if self.needs_new_password:
            first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
            if first and second and first != second:
                self.add_error("new_password2", _("The two passwords are not the same."))
        elif cleaned.get("password"):
            # Through authenticate(), so wrong guesses here count towards the lockout like at sign-in.
            user = authenticate(self.request, username=self.link.user.username, password=cleaned["password"])
            if user is None or user.pk != self.link.user_id:
                self.add_error("password", _("That password is not right."))
        return cleaned


class HavenPasswordChangeForm(PasswordChangeForm):
    old_password = _password_field(_("Current password"))
    new_password1 = _password_field(_("New password"), autocomplete="new-password")
    new_password2 = _password_field(_("New password again"), autocomplete="new-password")

    def save(self, commit: bool = True) -> User:  # type: ignore[override]
        raise NotImplementedError("Use core.accounts.services.user_password_change.")


def role_choices(organisation: Organisation, *, blank: bool) -> list[tuple[str, str]]:
    allowed = ROLES_BY_ORGANISATION_KIND.get(organisation.kind, ())
    choices = [(role.value, str(role.label)) for role in Role if role.value in allowed]
    return ([("", _("No role yet"))] if blank else []) + choices


class InviteForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        error_messages={"invalid": _("Use letters, digits and @ . + - _ only.")},
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Work e-mail address"))
    language = forms.ChoiceField(label=_("Interface language"))
    role = forms.ChoiceField(label=_("Role"), required=False)

    def __init__(self, *args, organisation: Organisation, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = list(settings.LANGUAGES)
        self.fields["language"].initial = settings.LANGUAGE_CODE
        self.fields["role"].choices = role_choices(organisation, blank=True)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is taken: choose another one."))
        return username


class RoleRequestForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, organisation: Organisation, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(organisation, blank=False)


class MfaResetRequestForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=MfaResetRequest.Reason.choices)


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I am sure"), error_messages={"required": _("Tick the box to confirm.")}
    )


class TeamCreateForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=200)


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())

    def __init__(self, *args, organisation: Organisation, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            organisation=organisation, is_active=True
        ).order_by("username")
        self.fields["user"].label_from_instance = lambda user: f"{user.username} ({user.staff_code})"


class ArrangementForm(forms.Form):
    protection_unit = forms.ModelChoiceField(label=_("Protection unit"), queryset=Organisation.objects.none())
    starts_on = forms.DateField(label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        label=_("Ends on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty while the arrangement has no end date."),
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from core.accounts.selectors import protection_unit_choices

        super().__init__(*args, **kwargs)
        self.fields["protection_unit"].queryset = protection_unit_choices()

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The arrangement cannot end before it starts."))
        return cleaned


__all__ = [
    "ArrangementForm",
    "CodeForm",
    "ConfirmForm",
    "EnrolmentForm",
    "HavenPasswordChangeForm",
    "InviteForm",
    "MfaResetRequestForm",
    "RoleAssignment",
    "RoleRequestForm",
    "SignInForm",
    "TeamCreateForm",
    "TeamMemberForm",
]
