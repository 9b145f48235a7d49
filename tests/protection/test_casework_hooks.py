"""Casework hooks into protection: a protected match alerts officers; reassignment ends a standing grant."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from casework.models import ProtectionLevel
from casework.services.cases import case_assign
from casework.services.intake import protection_duplicate_alert
from core.accounts.models import ServiceArrangement
from core.notifications.models import Notification
from protection.models import DisclosureGrant
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db


def test_a_protected_match_alerts_the_serving_officers_without_a_name(world, unit):
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED, legal_name="Sentinel Whistle")
    protection_duplicate_alert(
        person_id=case.person.pk, organisation_id=world.organisation.pk, actor=world.colleague
    )
    notes = list(Notification.objects.filter(kind="protection.protected_match"))
    assert {note.recipient_id for note in notes} == {unit.officer.pk, unit.second_officer.pk}
    assert all(note.reference == case.reference and note.is_urgent for note in notes)
    assert not Notification.objects.filter(recipient=world.colleague).exists()  # silent for the caseworker
    assert "Sentinel" not in str(list(Notification.objects.values()))


def test_with_no_officer_the_admins_are_alerted(world, unit):
    ServiceArrangement.objects.update(ends_on=timezone.localdate() - dt.timedelta(days=1))
    case = make_case(world, protection_level=ProtectionLevel.SEALED)
    protection_duplicate_alert(
        person_id=case.person.pk, organisation_id=world.organisation.pk, actor=world.colleague
    )
    recipients = set(
        Notification.objects.filter(kind="protection.protected_match_no_officer").values_list(
            "recipient", flat=True
        )
    )
    assert world.admin.pk in recipients
    assert unit.officer.pk not in recipients


def test_reassignment_ends_the_previous_caseworkers_standing_grant(world, unit):
    case = make_case(world, protection_level=ProtectionLevel.RESTRICTED)
    now = timezone.now()
    grant = DisclosureGrant.objects.create(
        person=case.person,
        grantee=world.caseworker,
        kind=DisclosureGrant.Kind.STANDING_CONTACT,
        fields=["contact_channels"],
        granted_by=unit.officer,
        starts_at=now,
        expires_at=now + dt.timedelta(days=365),
        review_due_at=now + dt.timedelta(days=30),
    )
    case_assign(actor=world.supervisor, case=case, caseworker=world.colleague)
    grant.refresh_from_db()
    assert grant.revoked_at is not None
