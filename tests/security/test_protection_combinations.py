"""Every combination of protection level x role x disclosure-grant state, over the pages that show a person.

The person's legal name holds a unique marker. For each combination, each page is asked as real users ask
it, and the marker must appear in the response body EXACTLY when SPEC.md §3 says the user may see the
identity there. The page-level rule is written out explicitly below (EXPECTED); casework.identity's
identity_visibility is used as a cross-check only where it is itself the SPEC rule (the case team).

Grant states: none; pending request; denied request; approved (a live grant; for a sealed person, approved
by two different officers); expired (a grant past its expiry that no beat task has ended yet: the clock is
re-checked at every read); revoked. Case-team members (assigned caseworker, supervisor) go through the real
disclosure services; the others cannot ask (the services refuse them), so their grants are written directly
to test that a grant never opens a page the role may not open (a partner's grant is bound to a referral).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.access import case_perms
from casework.identity import Visibility, identity_visibility
from casework.models import Case, CaseKind, PersonRole, ProtectionLevel, RiskLevel
from casework.services.cases import case_counsellor_assign, case_open
from core.accounts.models import Organisation, RoleAssignment
from core.accounts.roles import Role
from core.audit.models import AuditEvent
from protection.models import DisclosureGrant, DisclosureRequest
from protection.services import disclosure
from tests.casework.conftest import make_person
from tests.factories import OrganisationFactory, UserFactory
from tests.security.support import client_for

pytestmark = [pytest.mark.django_db]

OPEN, CONFIDENTIAL, RESTRICTED, SEALED, ANONYMOUS = (
    ProtectionLevel.OPEN,
    ProtectionLevel.CONFIDENTIAL,
    ProtectionLevel.RESTRICTED,
    ProtectionLevel.SEALED,
    ProtectionLevel.ANONYMOUS,
)
ROLES = ("caseworker", "counsellor", "supervisor", "partner", "officer", "admin", "auditor")
STATES = ("none", "pending", "denied", "approved", "expired", "revoked")
CASE_TEAM = frozenset({"caseworker", "counsellor", "supervisor"})  # open the casework person page
REQUESTERS = frozenset({"caseworker", "supervisor"})  # hold view_case: may ask for a disclosure

# --- The page-level rule, from SPEC.md §3 (identity rows) -----------------------------------------------


def _case_team_sees(level: str, role: str, state: str, *, revealed: bool) -> bool:
    """casework:person (GET) and casework:person_reveal (POST)."""
    if role not in CASE_TEAM:
        return False
    if level == OPEN:
        return True  # the case team sees an open person
    if level == CONFIDENTIAL:
        return revealed  # masked; the case team reveals, audited: never on a GET
    if level in (RESTRICTED, SEALED):
        return state == "approved"  # only a live grant (sealed: two officers); no reveal opens it
    return False  # anonymous: nothing was collected, nothing shows


def _officer_sees(level: str, role: str, state: str, *, revealed: bool) -> bool:
    """protection:person (GET) and protection:person_reveal (POST)."""
    if role != "officer":
        return False  # 404 for anyone but an officer serving the organisation
    if level in (OPEN, RESTRICTED, SEALED):
        return True  # restricted and sealed: yes, each view audited
    if level == CONFIDENTIAL:
        return revealed
    return False


def _case_team_reveal(level: str, role: str, state: str, *, revealed: bool) -> bool:
    """casework:person_reveal (POST): a reveal opens only what is masked-and-revealable, i.e. a confidential
    person for the case team. Elsewhere nothing is revealable and the reveal is refused (403, with the
    reason): an open person is shown by the GET, a restricted or sealed one only by a grant, on the GET."""
    return level == CONFIDENTIAL and _case_team_sees(level, role, state, revealed=True)


def _officer_reveal(level: str, role: str, state: str, *, revealed: bool) -> bool:
    """protection:person_reveal (POST): the officer reveals a confidential person; elsewhere refused."""
    return level == CONFIDENTIAL and _officer_sees(level, role, state, revealed=True)


def _never(level: str, role: str, state: str, *, revealed: bool) -> bool:
    """Overview, lists, search results, dashboards, notifications: pseudonym only, for everyone."""
    return False


EXPECTED: dict[str, Callable[..., bool]] = {
    "case overview": _never,
    "casework person (GET)": _case_team_sees,
    "casework person (reveal POST)": _case_team_reveal,
    "my cases": _never,
    "supervision": _never,
    "search by legal name (POST)": _never,
    "officer person page (GET)": _officer_sees,
    "officer person page (reveal POST)": _officer_reveal,
    "dashboard": _never,
    "notifications": _never,
}
REVEALS = {"casework person (reveal POST)", "officer person page (reveal POST)"}


def _marker(level: str) -> str:
    return f"combo-legalname-{level}-9c1e"


# --- The world --------------------------------------------------------------------------------------------


def _partner(world) -> object:  # type: ignore[no-untyped-def]
    organisation = OrganisationFactory(name="Legal aid partner", kind=Organisation.Kind.LEGAL_AID_PARTNER)
    user = UserFactory(organisation=organisation, username="partneruser", email="partneruser@example.org")
    RoleAssignment.objects.create(user=user, role=Role.PARTNER_USER, status="active", is_bootstrap=True)
    return user


def _case(world, level: str) -> Case:  # type: ignore[no-untyped-def]
    person = make_person(
        world,
        role=PersonRole.WITNESS,
        protection_level=level,
        legal_name=_marker(level),
        preferred_name="",
    )
    case = case_open(
        actor=world.caseworker,
        person=person,
        kind=CaseKind.WITNESS_SUPPORT,
        team=world.team,
        categories=["doxxing"],
        risk_level=RiskLevel.MEDIUM,
    )
    return case_counsellor_assign(actor=world.caseworker, case=case, counsellor=world.counsellor)


def _reset(case: Case) -> None:
    DisclosureGrant.objects.filter(person_id=case.person_id).delete()
    DisclosureRequest.objects.filter(person_id=case.person_id).delete()


def _direct(case: Case, user, state: str, *, officer, second_officer, partner: bool) -> None:  # type: ignore[no-untyped-def]
    """A grant state written directly, for users the disclosure services refuse to let ask."""
    now = timezone.now()
    if state == "none":
        return
    decider = second_officer if user.pk == officer.pk else officer
    request = None
    if not partner:
        request = DisclosureRequest.objects.create(
            person_id=case.person_id,
            case=case,
            requester=user,
            fields=["legal_name"],
            purpose="combination test",
            justification="combination test",
            status={"pending": "pending", "denied": "denied"}.get(state, "approved"),
            first_decided_by=None if state == "pending" else decider,
            first_decided_at=None if state == "pending" else now,
            created_at=now - dt.timedelta(hours=1),
        )
    if state in ("pending", "denied"):
        return
    starts = now - dt.timedelta(hours=100 if state == "expired" else 1)
    expires = now - dt.timedelta(hours=28) if state == "expired" else now + dt.timedelta(hours=72)
    DisclosureGrant.objects.create(
        person_id=case.person_id,
        grantee=user,
        kind=DisclosureGrant.Kind.REFERRAL if partner else DisclosureGrant.Kind.REQUEST,
        referral_id=4242 if partner else None,
        request=request,
        fields=["legal_name"],
        purpose="combination test",
        granted_by=decider,
        starts_at=starts,
        expires_at=None if partner and state != "expired" else expires,
        revoked_at=now - dt.timedelta(minutes=5) if state == "revoked" else None,
        revoked_by=decider if state == "revoked" else None,
    )


def _through_services(case: Case, user, state: str, *, officer, second_officer) -> None:  # type: ignore[no-untyped-def]
    """A grant state reached the way the case team reaches it: ask, an officer decides (two if sealed)."""
    if state == "none":
        return
    now = timezone.now()
    asked_at = now - dt.timedelta(hours=100) if state == "expired" else now - dt.timedelta(minutes=10)
    request = disclosure.disclosure_request_create(
        actor=user,
        case=case,
        fields=["legal_name"],
        purpose="Court preparation",
        justification="The hearing needs it",
        requested_hours=1 if state == "expired" else 72,
        now=asked_at,
    )
    if state == "pending":
        return
    if state == "denied":
        disclosure.disclosure_request_deny(actor=officer, request=request, reason="Not needed", now=asked_at)
        return
    request = disclosure.disclosure_request_approve(
        actor=officer, request=request, reason="Needed", person_notified=True, now=asked_at
    )
    if request.status == DisclosureRequest.Status.AWAITING_SECOND:
        request = disclosure.disclosure_request_approve(
            actor=second_officer, request=request, reason="Agreed", now=asked_at
        )
    assert request.status == DisclosureRequest.Status.APPROVED
    if state == "revoked":
        disclosure.grant_revoke(actor=officer, grant=request.grant, reason_code="no_longer_needed")


def _set_state(case: Case, role: str, user, state: str, unit) -> None:  # type: ignore[no-untyped-def]
    _reset(case)
    officers = {"officer": unit.officer, "second_officer": unit.second_officer}
    if role in REQUESTERS and case.person.protection_level in (RESTRICTED, SEALED):
        _through_services(case, user, state, **officers)
    else:
        _direct(case, user, state, partner=role == "partner", **officers)


# --- The pages -------------------------------------------------------------------------------------------


def _bodies(client: Client, case: Case, marker: str) -> dict[str, tuple[int, str]]:
    ref = {"reference": case.reference}

    def get(url: str, **kwargs) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        response = client.get(url, follow=True, **kwargs)
        return response.status_code, response.content.decode(errors="replace")

    def post(url: str, data: dict | None = None) -> tuple[int, str]:
        response = client.post(url, data or {})
        return response.status_code, response.content.decode(errors="replace")

    status, search = post(reverse("casework:search"), {"name": marker})
    # The search form shows again what was typed (the user's own input): that echo is not a disclosure.
    search = search.replace(f'value="{marker}"', 'value=""')
    return {
        "case overview": get(reverse("casework:case_detail", kwargs=ref)),
        "casework person (GET)": get(reverse("casework:person", kwargs=ref)),
        "casework person (reveal POST)": post(reverse("casework:person_reveal", kwargs=ref)),
        "my cases": get(reverse("casework:my_cases")),
        "supervision": get(reverse("casework:supervision")),
        "search by legal name (POST)": (status, search),
        "officer person page (GET)": get(reverse("protection:person", kwargs=ref)),
        "officer person page (reveal POST)": post(reverse("protection:person_reveal", kwargs=ref)),
        "dashboard": get(reverse("core:home")),
        "notifications": get(reverse("notifications:list")),
    }


def _oracle_check(case: Case, role: str, user, state: str, failures: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The identity rule agrees with the explicit table where the rule is the SPEC's (the case team)."""
    if role not in CASE_TEAM:
        return
    case.person.refresh_from_db()
    visibility = identity_visibility(
        user, case.person, "legal_name", case_perms=case_perms(user=user, case=case)
    )
    level = case.person.protection_level
    expected_get = _case_team_sees(level, role, state, revealed=False)
    expected_reveal = _case_team_sees(level, role, state, revealed=True)
    if visibility.shows_value != expected_get or (
        (visibility == Visibility.REVEALABLE) != (expected_reveal and not expected_get)
    ):
        failures.append(f"{level}/{role}/{state}: identity_visibility says {visibility.value}")


def _audit_display_check(world, marker: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The auditor's audit-trail pages never show the identity, whatever the events above were."""
    client = client_for(world.auditor)
    leaks, page = [], 1
    while True:
        response = client.get(reverse("audit:list"), {"page": page})
        assert response.status_code == 200
        if marker in response.content.decode():
            leaks.append(f"audit:list page {page} shows the legal name")
        if not response.context["page"].has_next():
            return leaks
        page += 1


@pytest.mark.parametrize("level", [OPEN, CONFIDENTIAL, RESTRICTED, SEALED, ANONYMOUS])
def test_the_legal_name_shows_exactly_where_the_spec_says(world, unit, level):  # type: ignore[no-untyped-def]
    case = _case(world, level)
    marker = _marker(level)
    users = {
        "caseworker": world.caseworker,
        "counsellor": world.counsellor,
        "supervisor": world.supervisor,
        "partner": _partner(world),
        "officer": unit.officer,
        "admin": world.admin,
        "auditor": world.auditor,
    }
    clients = {role: client_for(user) for role, user in users.items()}
    failures: list[str] = []
    combinations = 0
    for role in ROLES:
        for state in STATES:
            _set_state(case, role, users[role], state, unit)
            _oracle_check(case, role, users[role], state, failures)
            for page, (status, body) in _bodies(clients[role], case, marker).items():
                combinations += 1
                shown = marker in body
                expected = EXPECTED[page](level, role, state, revealed=page in REVEALS)
                if shown != expected:
                    failures.append(
                        f"{level} / {role} / grant {state} / {page}: legal name "
                        f"{'shown' if shown else 'not shown'} (status {status}), SPEC says "
                        f"{'shown' if expected else 'not shown'}"
                    )
                if status >= 500:
                    failures.append(f"{level} / {role} / grant {state} / {page}: status {status}")
    _reset(case)
    failures += _audit_display_check(world, marker)
    assert combinations == len(ROLES) * len(STATES) * len(EXPECTED)
    assert not AuditEvent.objects.filter(details__icontains=marker).exists()
    assert not failures, "\n".join(failures)
