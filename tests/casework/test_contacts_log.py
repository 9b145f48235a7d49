"""Contacts: every contact or attempt logged; outgoing contact honours the channel's safety mark; channel
values and safe times shown only per the identity rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, ChannelSafety, Contact, ContactChannel
from casework.services.contacts import contact_record
from core.audit.models import AuditEvent
from tests.casework.conftest import make_case

pytestmark = pytest.mark.django_db

PHONE = "+447700900123"


def channel(case, *, kind="phone", value=PHONE, safety=ChannelSafety.SAFE, safe_times=""):
    return ContactChannel.objects.create(
        person=case.person, kind=kind, value=value, safety=safety, safe_times=safe_times
    )


def record(world, case, **overrides):
    values = {
        "actor": world.caseworker,
        "case": case,
        "channel_id": None,
        "direction": Contact.Direction.OUTBOUND,
        "outcome": Contact.Outcome.REACHED,
        "occurred_at": timezone.now() - timedelta(minutes=5),
        "notes": "",
    }
    values.update(overrides)
    return contact_record(**values)


def test_a_reached_contact_moves_last_contact_forward(world, case):
    phone = channel(case)
    when = timezone.now() - timedelta(hours=1)
    contact = record(
        world,
        case,
        channel_id=phone.pk,
        occurred_at=when,
        interpreter_used=True,
        notes="Talked about the threats; she is calmer.",
    )
    assert contact.channel_kind == "phone" and contact.interpreter_used
    assert Case.objects.get(pk=case.pk).last_contact_at == when
    # An attempt without an answer is logged but is not contact.
    record(
        world,
        case,
        channel_id=phone.pk,
        outcome=Contact.Outcome.NO_ANSWER,
        occurred_at=timezone.now() - timedelta(minutes=1),
    )
    assert Case.objects.get(pk=case.pk).last_contact_at == when
    # An older contact recorded late does not move it back.
    record(world, case, occurred_at=when - timedelta(days=1))
    assert Case.objects.get(pk=case.pk).last_contact_at == when
    assert Contact.objects.filter(case=case).count() == 3
    event = AuditEvent.objects.filter(action="contact.recorded").order_by("pk").first()
    assert "notes" in event.fields and "threats" not in str(event.details)


def test_in_person_contact(world, case):
    contact = record(world, case)
    assert contact.channel is None and contact.channel_kind == "in_person"


def test_outbound_contact_on_a_compromised_channel_is_refused(world, case):
    phone = channel(case, safety=ChannelSafety.COMPROMISED)
    with pytest.raises(ValidationError) as error:
        record(world, case, channel_id=phone.pk)
    assert list(error.value.error_dict) == ["channel"]
    assert "compromised" in error.value.error_dict["channel"][0].messages[0]
    assert Contact.objects.count() == 0
    assert Case.objects.get(pk=case.pk).last_contact_at is None
    # The person calling in on it is recorded.
    assert record(world, case, channel_id=phone.pk, direction=Contact.Direction.INBOUND).pk


def test_safe_at_times_needs_a_confirmation(world, case):
    phone = channel(case, safety=ChannelSafety.SAFE_AT_TIMES, safe_times="Mornings before 9")
    with pytest.raises(ValidationError) as error:
        record(world, case, channel_id=phone.pk)
    assert list(error.value.error_dict) == ["safe_time_confirmed"]
    assert record(world, case, channel_id=phone.pk, safe_time_confirmed=True).pk


def test_a_time_in_the_future_is_refused(world, case):
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        record(world, case, occurred_at=now + timedelta(hours=1), now=now)
    assert list(error.value.error_dict) == ["occurred_at"]
    assert Contact.objects.count() == 0


def test_a_channel_of_another_person_is_refused(world, case):
    other = make_case(world)
    foreign = channel(other)
    with pytest.raises(ValidationError) as error:
        record(world, case, channel_id=foreign.pk)
    assert list(error.value.error_dict) == ["channel"]


def test_who_may_record(world, case):
    for user in (world.colleague, world.counsellor, world.outsider, world.auditor):
        with pytest.raises(PermissionDenied):
            record(world, case, actor=user)
    assert Contact.objects.count() == 0


def test_notes_and_channel_values_are_encrypted(world, case):
    phone = channel(case, safety=ChannelSafety.SAFE_AT_TIMES, safe_times="Mornings before 9")
    contact = record(
        world, case, channel_id=phone.pk, safe_time_confirmed=True, notes="She mentioned Elm Street"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM casework_contact WHERE id = %s", [contact.pk])
        (raw_notes,) = cursor.fetchone()
        cursor.execute("SELECT value, safe_times FROM casework_contactchannel WHERE id = %s", [phone.pk])
        raw_value, raw_times = cursor.fetchone()
    assert "Elm" not in raw_notes
    assert "7700" not in raw_value and "Mornings" not in raw_times


def test_confidential_person_shows_pseudonymous_labels_only(world, case, signed_in):
    channel(case, safety=ChannelSafety.SAFE_AT_TIMES, safe_times="Mornings before 9")
    channel(case, kind="email", value="maria@example.org")
    record(world, case, notes="Reached her.")
    client = signed_in(world.caseworker)
    for name in ("contacts", "contact_add"):
        page = client.get(reverse(f"casework:{name}", kwargs={"reference": case.reference}))
        assert page.status_code == 200
        content = page.content.decode()
        assert "Phone 1" in content and "E-mail 1" in content
        assert PHONE not in content and "maria@example.org" not in content
        assert "Mornings before 9" not in content  # safe times are identity-adjacent


def test_open_person_shows_values_and_safe_times(world, signed_in):
    case = make_case(world, protection_level="open")
    channel(case, safety=ChannelSafety.SAFE_AT_TIMES, safe_times="Mornings before 9")
    client = signed_in(world.caseworker)
    page = client.get(reverse("casework:contact_add", kwargs={"reference": case.reference}))
    content = page.content.decode()
    assert PHONE in content and "Mornings before 9" in content
    assert "confirm" in content.lower()


def test_the_add_page_refuses_unsafe_and_future_contacts_with_messages(world, case, signed_in):
    compromised = channel(case, safety=ChannelSafety.COMPROMISED)
    client = signed_in(world.caseworker)
    url = reverse("casework:contact_add", kwargs={"reference": case.reference})
    now = timezone.localtime()
    data = {
        "channel": str(compromised.pk),
        "direction": "outbound",
        "outcome": "reached",
        "occurred_at": (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"),
        "notes": "Typed notes stay",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "This channel is marked compromised" in response.content.decode()
    assert "Typed notes stay" in response.content.decode()
    future = {
        **data,
        "channel": "in_person",
        "occurred_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.post(url, future)
    assert response.status_code == 200
    assert "A contact cannot be in the future" in response.content.decode()
    assert Contact.objects.count() == 0
    ok = client.post(url, {**data, "channel": "in_person"})
    assert ok.status_code == 302
    assert Contact.objects.get().notes == "Typed notes stay"
