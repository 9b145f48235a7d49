"""Redaction: the PDF holds the case as its requester may see it now, and never the code word, the
device-seizure steps, or counselling notes that were not chosen (or that the requester may not read)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from casework.models import ProtectionLevel
from casework.summaries.content import summary_content
from casework.summaries.render import summary_render
from protection.models import DisclosureGrant
from tests.summaries.helpers_render import (  # noqa: F401 (fixtures)
    CODE_WORD,
    CONTACT_NOTE,
    COUNSELLING_NOTE,
    LEGAL_NAME_MARKER,
    NOW,
    PURPOSES,
    SEIZURE_STEPS,
    decompressed_streams,
    fill_case,
    make_summary,
    normalise,
    page_texts,
    pdftotext,
    unit,
    world,
)


def _everywhere(pdf: bytes) -> str:
    """Raw bytes, inflated streams, pypdf's text and pdftotext's text, as one searchable string."""
    return "\n".join(
        [
            decompressed_streams(pdf).decode("latin-1"),
            " ".join(page_texts(pdf)),
            pdftotext(pdf),
        ]
    )


def _absent(pdf: bytes, *markers: str) -> None:
    haystack = _everywhere(pdf)
    squeezed = normalise(haystack).replace(" ", "")
    for marker in markers:
        assert marker not in haystack, marker
        assert marker not in squeezed, marker


def _present(pdf: bytes, marker: str) -> None:
    assert marker in normalise(pdftotext(pdf)).replace(" ", "") or marker in normalise(pdftotext(pdf))


def test_restricted_person_legal_name_is_nowhere_in_the_file(world):  # noqa: F811
    case = fill_case(world, protection_level=ProtectionLevel.RESTRICTED)
    summary = make_summary(case, world.caseworker, purpose="legal_partner")

    result = summary_render(summary=summary, now=NOW)

    _absent(result.pdf_bytes, LEGAL_NAME_MARKER, "Mari ", "+441632960001")
    text = normalise(pdftotext(result.pdf_bytes))
    assert f"{case.person.pseudonym} [withheld]" in text
    assert "[withheld]" in text
    assert result.protection_level == "restricted"
    assert result.grant_ids == []
    content = summary_content(summary=summary, now=NOW)
    assert content.identity_fields_shown == ()


def test_protection_review_withholds_a_confidential_identity_from_the_officer(world, unit):  # noqa: F811
    case = fill_case(world)
    summary = make_summary(case, unit.officer, purpose="protection_review")

    result = summary_render(summary=summary, now=NOW)

    _absent(result.pdf_bytes, LEGAL_NAME_MARKER, CONTACT_NOTE, CODE_WORD, SEIZURE_STEPS, COUNSELLING_NOTE)
    assert f"{case.person.pseudonym} [withheld]" in normalise(pdftotext(result.pdf_bytes))


def test_officer_sees_a_restricted_identity_audited(world, unit):  # noqa: F811
    case = fill_case(world, protection_level=ProtectionLevel.RESTRICTED)
    summary = make_summary(case, unit.officer, purpose="protection_review")

    result = summary_render(summary=summary, now=NOW)

    _present(result.pdf_bytes, LEGAL_NAME_MARKER)
    assert result.audited_fields == tuple(
        name
        for name in (
            "preferred_name",
            "legal_name",
            "other_names",
            "date_of_birth",
            "nationality",
            "address",
            "identity_documents",
            "online_handles",
            "contact_channels",
        )
    )
    assert result.grant_ids == []  # an officer relies on no grant


def test_a_grant_shows_its_field_and_is_returned(world, unit):  # noqa: F811
    case = fill_case(world, protection_level=ProtectionLevel.RESTRICTED)
    grant = DisclosureGrant.objects.create(
        person=case.person,
        grantee=world.caseworker,
        kind=DisclosureGrant.Kind.REQUEST,
        fields=["legal_name"],
        granted_by=unit.officer,
        starts_at=NOW - dt.timedelta(hours=1),
        expires_at=NOW + dt.timedelta(hours=71),
    )
    DisclosureGrant.objects.create(  # another user's grant: irrelevant
        person=case.person,
        grantee=world.colleague,
        kind=DisclosureGrant.Kind.REQUEST,
        fields=["address"],
        granted_by=unit.officer,
        starts_at=NOW - dt.timedelta(hours=1),
        expires_at=NOW + dt.timedelta(hours=71),
    )
    summary = make_summary(case, world.caseworker, purpose="legal_partner")

    result = summary_render(summary=summary, now=NOW)

    _present(result.pdf_bytes, LEGAL_NAME_MARKER)
    _absent(result.pdf_bytes, "+441632960001")
    assert result.grant_ids == [grant.pk]
    assert result.audited_fields == ("legal_name",)
    assert result.revealed_fields == ()

    # Once the grant has expired, the same summary shows the pseudonym only.
    later = summary_render(summary=summary, now=NOW + dt.timedelta(hours=72))
    _absent(later.pdf_bytes, LEGAL_NAME_MARKER)
    assert later.grant_ids == []


@pytest.mark.parametrize("purpose", ["client", "legal_partner"])
def test_confidential_identity_shown_to_the_case_team_and_recorded_as_revealed(world, purpose):  # noqa: F811
    case = fill_case(world)
    summary = make_summary(case, world.caseworker, purpose=purpose)

    result = summary_render(summary=summary, now=NOW)

    _present(result.pdf_bytes, LEGAL_NAME_MARKER)
    assert "legal_name" in result.revealed_fields
    assert result.audited_fields == ()


@pytest.mark.parametrize("purpose", PURPOSES)
def test_code_word_and_seizure_steps_never_appear(world, unit, purpose):  # noqa: F811
    case = fill_case(world)
    requester = unit.officer if purpose == "protection_review" else world.caseworker
    summary = make_summary(case, requester, purpose=purpose, include_counselling=True)

    result = summary_render(summary=summary, now=NOW)

    _absent(result.pdf_bytes, CODE_WORD, SEIZURE_STEPS)


def test_counselling_notes_only_when_chosen_and_only_for_the_counsellor(world):  # noqa: F811
    case = fill_case(world)

    chosen = summary_render(
        summary=make_summary(case, world.counsellor, purpose="client", include_counselling=True), now=NOW
    )
    not_chosen = summary_render(
        summary=make_summary(case, world.counsellor, purpose="client", include_counselling=False), now=NOW
    )
    supervisor = summary_render(
        summary=make_summary(case, world.supervisor, purpose="client", include_counselling=True), now=NOW
    )
    caseworker = summary_render(
        summary=make_summary(case, world.caseworker, purpose="legal_partner", include_counselling=True),
        now=NOW,
    )

    _present(chosen.pdf_bytes, COUNSELLING_NOTE)
    _absent(chosen.pdf_bytes, CONTACT_NOTE)  # a counsellor does not read the casework
    _absent(not_chosen.pdf_bytes, COUNSELLING_NOTE)
    _absent(supervisor.pdf_bytes, COUNSELLING_NOTE)  # sessions yes, notes no
    assert "50" in pdftotext(supervisor.pdf_bytes)
    _present(supervisor.pdf_bytes, CONTACT_NOTE)
    _absent(caseworker.pdf_bytes, COUNSELLING_NOTE)


@pytest.mark.parametrize(
    ("requester", "purpose"),
    [
        ("colleague", "client"),  # same team, not assigned: list_case only
        ("other_team_caseworker", "legal_partner"),
        ("outsider", "client"),
        ("auditor", "client"),
        ("counsellor", "legal_partner"),  # counsel_case without view_case
        ("caseworker", "protection_review"),  # not an officer
        ("supervisor", "protection_review"),
    ],
)
def test_refused_requesters(world, requester, purpose):  # noqa: F811
    case = fill_case(world)
    summary = make_summary(case, getattr(world, requester), purpose=purpose)

    with pytest.raises(PermissionDenied):
        summary_content(summary=summary, now=NOW)
    with pytest.raises(PermissionDenied):
        summary_render(summary=summary, now=NOW)


def test_deactivated_requester_is_refused(world):  # noqa: F811
    case = fill_case(world)
    summary = make_summary(case, world.caseworker)
    world.caseworker.is_active = False
    world.caseworker.save(update_fields=["is_active"])
    summary.refresh_from_db()

    with pytest.raises(PermissionDenied):
        summary_render(summary=summary, now=NOW)


def test_officer_of_an_unserved_unit_is_refused(world, unit):  # noqa: F811
    case = fill_case(world)
    summary = make_summary(case, unit.officer, purpose="protection_review")

    with pytest.raises(PermissionDenied):
        summary_render(summary=summary, now=NOW - dt.timedelta(days=60))  # before the arrangement began
