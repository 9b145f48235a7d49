"""Permission matrix of every directory and agreement URL: anonymous, other roles, other organisations.

Each refusal changes nothing (services, contacts, agreements, audit events)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.audit.models import AuditEvent
from referrals.models import PartnerAgreement, Service, ServiceContact

pytestmark = pytest.mark.django_db

# Who is asking: a name on the ReferralWorld or on its casework world.
USERS = {
    "caseworker": lambda rw: rw.world.caseworker,
    "supervisor": lambda rw: rw.world.supervisor,
    "outsider_caseworker": lambda rw: rw.world.outsider,  # caseworker of another support service
    "counsellor": lambda rw: rw.world.counsellor,
    "auditor": lambda rw: rw.world.auditor,
    "support_admin": lambda rw: rw.world.admin,
    "legal_user": lambda rw: rw.legal_user,
    "legal_admin": lambda rw: rw.legal_admin,
    "legal_org_admin": lambda rw: rw.legal_org_admin,
    "counselling_user": lambda rw: rw.counselling_user,
    "counselling_admin": lambda rw: rw.counselling_admin,
}

SERVICE_POST = {
    "name": "Changed",
    "kind": "legal_aid",
    "status": "active",
    "languages": "en",
    "countries": "GB",
    "time_zone": "UTC",
    "working_days": ["0"],
    "receive_within_working_days": "2",
    "urgent_receive_within_hours": "4",
    "decide_within_working_days": "5",
}
CONTACT_POST = {"name": "Changed", "email": "changed@example.org"}


def _agreement_post(rw) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "partner": str(rw.counselling.pk),
        "country": "DE",
        "mechanism": "adequacy",
        "signed_on": "2026-01-01",
        "acts_for_service": "True",
    }


# (url name, args, method, data) -> the status for each user; users not named get 403.
SENDERS_AND_PARTNERS_READ = dict.fromkeys(
    ["caseworker", "supervisor", "outsider_caseworker", "legal_user", "legal_admin", "counselling_user",
     "counselling_admin"],
    200,
)  # fmt: skip
LEGAL_SERVICE_READ = {**SENDERS_AND_PARTNERS_READ, "counselling_user": 404, "counselling_admin": 404}
LEGAL_SERVICE_WRITE = {"legal_admin": 302, "counselling_user": 404, "counselling_admin": 404}
LEGAL_SERVICE_FORM = {"legal_admin": 200, "counselling_user": 404, "counselling_admin": 404}
CASES = [
    ("directory", "none", "get", None, SENDERS_AND_PARTNERS_READ),
    ("directory_export", "none", "get", None, SENDERS_AND_PARTNERS_READ),
    ("service_detail", "service", "get", None, LEGAL_SERVICE_READ),
    ("service_edit", "service", "get", None, LEGAL_SERVICE_FORM),
    ("service_edit", "service", "post", SERVICE_POST, LEGAL_SERVICE_WRITE),
    ("service_verify", "service", "post", {}, LEGAL_SERVICE_WRITE),
    ("service_contact_new", "service", "get", None, LEGAL_SERVICE_FORM),
    ("service_contact_new", "service", "post", CONTACT_POST, LEGAL_SERVICE_WRITE),
    ("service_contact_edit", "contact", "post", CONTACT_POST, LEGAL_SERVICE_WRITE),
    ("service_contact_delete", "contact", "get", None, LEGAL_SERVICE_FORM),
    ("service_contact_delete", "contact", "post", {}, LEGAL_SERVICE_WRITE),
    ("service_new", "none", "get", None, {"legal_admin": 200, "counselling_admin": 200}),
    ("service_new", "none", "post", SERVICE_POST, {"legal_admin": 302, "counselling_admin": 302}),
    ("agreements", "none", "get", None, {"support_admin": 200}),
    ("agreement_new", "none", "get", None, {"support_admin": 200}),
    ("agreement_new", "none", "post", "agreement", {"support_admin": 302}),
    ("agreement_terminate", "agreement", "get", None, {"support_admin": 200}),
    ("agreement_terminate", "agreement", "post", {"terminated_on": "2026-03-01"}, {"support_admin": 302}),
]


def _args(rw, kind: str) -> list[int]:  # type: ignore[no-untyped-def]
    return {
        "none": [],
        "service": [rw.legal_service.pk],
        "contact": [rw.legal_contact.pk],
        "agreement": [rw.legal_agreement.pk],
    }[kind]


def _state() -> tuple:  # type: ignore[type-arg]
    return (
        list(Service.objects.order_by("pk").values()),
        list(ServiceContact.objects.order_by("pk").values()),
        list(PartnerAgreement.objects.order_by("pk").values()),
        AuditEvent.objects.filter(action__regex=r"^(directory|agreement)\.").count(),
    )


def _request(client, rw, name, args_kind, method, data):  # type: ignore[no-untyped-def]
    url = reverse(f"referrals:{name}", args=_args(rw, args_kind))
    if method == "get":
        return client.get(url)
    return client.post(url, _agreement_post(rw) if data == "agreement" else data)


@pytest.mark.parametrize(("name", "args_kind", "method", "data", "allowed"), CASES)
@pytest.mark.parametrize("who", list(USERS))
def test_matrix(referral_world, client, signed_in, name, args_kind, method, data, allowed, who):
    expected = allowed.get(who, 403)
    signed_in(USERS[who](referral_world))
    before = _state()
    response = _request(client, referral_world, name, args_kind, method, data)
    assert response.status_code == expected, (name, method, who, response.status_code)
    if expected in (403, 404):
        assert _state() == before
    if expected == 403:
        body = response.content.decode()
        assert any(
            reason in body
            for reason in (
                "Only caseworkers, supervisors and the partners&#x27; own staff use the partner directory.",
                "Only an admin of the partner organisation can change its services in the directory.",
                "Only an organisation admin of a support service records partner agreements.",
            )
        ), body[:500]
    if method == "post" and expected == 302:
        assert _state() != before  # the allowed write happened


@pytest.mark.parametrize(("name", "args_kind", "method", "data", "allowed"), CASES)
def test_anonymous_is_sent_to_sign_in(referral_world, client, name, args_kind, method, data, allowed):
    before = _state()
    response = _request(client, referral_world, name, args_kind, method, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert _state() == before


def test_guessed_ids_are_404(referral_world, signed_in):
    client = signed_in(referral_world.legal_admin)
    for name in ("service_detail", "service_edit", "service_contact_new"):
        assert client.get(reverse(f"referrals:{name}", args=[987654])).status_code == 404
    for name in ("service_contact_edit", "service_contact_delete"):
        assert client.get(reverse(f"referrals:{name}", args=[987654])).status_code == 404
    admin = signed_in(referral_world.world.admin)
    assert admin.get(reverse("referrals:agreement_terminate", args=[987654])).status_code == 404


def test_post_only_and_get_only_methods(referral_world, signed_in):
    client = signed_in(referral_world.legal_admin)
    assert (
        client.get(reverse("referrals:service_verify", args=[referral_world.legal_service.pk])).status_code
        == 405
    )
    assert client.post(reverse("referrals:directory")).status_code == 405
    assert client.post(reverse("referrals:directory_export")).status_code == 405


def test_a_deactivated_partner_organisation_loses_the_directory(referral_world, signed_in):
    referral_world.legal_aid.is_active = False
    referral_world.legal_aid.save(update_fields=["is_active"])
    client = signed_in(referral_world.legal_admin)
    assert client.get(reverse("referrals:directory")).status_code == 403
    caseworker = signed_in(referral_world.world.caseworker)
    assert (
        caseworker.get(
            reverse("referrals:service_detail", args=[referral_world.legal_service.pk])
        ).status_code
        == 404
    )
