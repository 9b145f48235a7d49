"""The partner portal's pages: who reaches what (two partner organisations), only the snapshot and the
history, fixed queries on the inbox, refused steps that keep what was typed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import ProtectionLevel
from core.audit.models import AuditEvent
from referrals.models import LedgerEntry, Referral, ReferralEvent, ReferralState
from referrals.services import portal as services
from tests.casework.conftest import make_case
from tests.referrals.portal_world import cancel_by_sender, make_referral, protection_unit

S = ReferralState


@pytest.fixture
def sent(referral_world):  # type: ignore[no-untyped-def]
    rw = referral_world
    case = make_case(rw.world, legal_name="Wilhelmina Quarrington", preferred_name="Wilma")
    return make_referral(
        rw, case=case, conflict_check=True, ledger_status=LedgerEntry.Status.DELETION_REQUESTED
    )


def _urls(referral: Referral) -> dict[str, tuple[str, str]]:
    reference = referral.reference
    return {
        "inbox": ("get", reverse("referrals:portal")),
        "referral": ("get", reverse("referrals:portal_referral", args=[reference])),
        "step": ("post", reverse("referrals:portal_step", args=[reference, "receive"])),
        "confirm_deletion": ("get", reverse("referrals:portal_confirm_deletion", args=[reference])),
        "identity_release": ("get", reverse("referrals:identity_release", args=[reference])),
    }


def _status(client, method: str, url: str) -> int:  # type: ignore[no-untyped-def]
    if method == "post":
        return client.post(url, {"version": "1"}).status_code
    return client.get(url).status_code


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # inbox, referral, step, confirm deletion, identity release
        ("legal_user", (200, 200, 302, 200, 404)),
        ("legal_admin", (200, 200, 409, 200, 404)),  # after legal_user's receipt the version is stale
        ("legal_org_admin", (404, 404, 404, 404, 404)),  # no partner role
        ("counselling_user", (200, 404, 404, 404, 404)),  # another partner organisation
        ("counselling_admin", (200, 404, 404, 404, 404)),
        ("caseworker", (404, 404, 404, 404, 404)),  # the support service
        ("supervisor", (404, 404, 404, 404, 404)),
        ("outsider", (404, 404, 404, 404, 404)),
    ],
)
def test_permission_matrix_over_every_portal_url(referral_world, sent, signed_in, who, expected):
    rw = referral_world
    users = {
        "legal_user": rw.legal_user,
        "legal_admin": rw.legal_admin,
        "legal_org_admin": rw.legal_org_admin,
        "counselling_user": rw.counselling_user,
        "counselling_admin": rw.counselling_admin,
        "caseworker": rw.world.caseworker,
        "supervisor": rw.world.supervisor,
        "outsider": rw.world.outsider,
    }
    if who == "legal_admin":
        services.referral_receive(actor=rw.legal_user, referral=sent)
    client = signed_in(users[who])
    before = Referral.objects.get(pk=sent.pk).version
    got = tuple(_status(client, method, url) for method, url in _urls(sent).values())
    assert got == expected
    if expected[2] != 302:
        assert Referral.objects.get(pk=sent.pk).version == before  # nothing changed


def test_anonymous_users_are_sent_to_sign_in(sent, client):
    for method, url in _urls(sent).values():
        response = client.post(url) if method == "post" else client.get(url)
        assert response.status_code == 302
        assert "/accounts/" in response["Location"] or "login" in response["Location"]
    assert Referral.objects.get(pk=sent.pk).state == S.SENT


def test_guessed_references_answer_404(referral_world, sent, signed_in):
    rw = referral_world
    other = make_referral(rw, case=make_case(rw.world), partner=rw.counselling)
    client = signed_in(rw.legal_user)
    for reference in (other.reference, "RF-2026-999999", "RF-2026-00000%", "x" * 300, sent.case.reference):
        assert client.get(reverse("referrals:portal_referral", args=[reference])).status_code == 404
        assert client.post(reverse("referrals:portal_step", args=[reference, "receive"])).status_code == 404
        assert client.get(reverse("referrals:portal_confirm_deletion", args=[reference])).status_code == 404
    assert client.post(reverse("referrals:portal_step", args=[sent.reference, "delete"])).status_code == 404
    assert Referral.objects.get(pk=other.pk).state == S.SENT


def test_casework_and_protection_urls_answer_404_to_partners(referral_world, sent, signed_in):
    rw = referral_world
    client = signed_in(rw.legal_user)
    reference = sent.case.reference
    for name in ("casework:case_detail", "casework:risk", "casework:documents", "casework:contacts"):
        assert client.get(reverse(name, args=[reference])).status_code == 404, name
    assert client.get(reverse("protection:person", args=[reference])).status_code == 404


def test_the_page_shows_the_snapshot_and_history_and_nothing_else(referral_world, sent, signed_in):
    rw = referral_world
    client = signed_in(rw.legal_user)
    response = client.get(reverse("referrals:portal_referral", args=[sent.reference]))
    content = response.content.decode()
    assert sent.case.person.pseudonym in content
    assert "Advice on a fraud claim." in content  # the snapshot's "what the client needs"
    assert "What the client needs" in content  # with its label
    assert "Fraudster Ltd" in content  # the conflict check's adverse parties
    for unshared in ("Wilhelmina", "Quarrington", "Wilma", sent.case.reference):
        assert unshared not in content
    audit = AuditEvent.objects.get(action="referral.snapshot_viewed")
    assert (audit.actor, audit.organisation_id) == (rw.legal_user, rw.support.pk)
    assert sorted(audit.fields) == ["needs", "pseudonym"]
    # After steps, the history shows states and reasons, still nothing unshared.
    services.referral_receive(actor=rw.legal_user, referral=sent)
    services.referral_decline(
        actor=rw.legal_user, referral=sent, reason="no_capacity", note="Full until May."
    )
    content = client.get(reverse("referrals:portal_referral", args=[sent.reference])).content.decode()
    assert "No capacity" in content and "Full until May." in content
    for unshared in ("Wilhelmina", "Quarrington", "Wilma", sent.case.reference):
        assert unshared not in content


def test_steps_through_the_page(referral_world, sent, signed_in):
    rw = referral_world
    client = signed_in(rw.legal_user)
    url = reverse("referrals:portal_step", args=[sent.reference, "receive"])
    response = client.post(url, {"version": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:portal_referral", args=[sent.reference])
    conflict = reverse("referrals:portal_step", args=[sent.reference, "conflict"])
    assert client.post(conflict, {"version": "2", "result": "clear"}).status_code == 302
    accept = reverse("referrals:portal_step", args=[sent.reference, "accept"])
    response = client.post(accept, {"version": "3", "attestation": ""})
    assert response.status_code == 400
    assert "Type your attestation" in response.content.decode()
    assert client.post(accept, {"version": "3", "attestation": "No conflict found."}).status_code == 302
    assert Referral.objects.get(pk=sent.pk).state == S.ACCEPTED


def test_unknown_reason_codes_are_refused_on_the_page(referral_world, sent, signed_in):
    rw = referral_world
    services.referral_receive(actor=rw.legal_user, referral=sent)
    client = signed_in(rw.legal_user)
    url = reverse("referrals:portal_step", args=[sent.reference, "decline"])
    response = client.post(url, {"version": "2", "reason": "cheaper_elsewhere", "note": "My typed note."})
    assert response.status_code == 400
    assert "My typed note." in response.content.decode()
    assert Referral.objects.get(pk=sent.pk).state == S.RECEIVED


def test_deciding_a_referral_cancelled_meanwhile_keeps_the_typed_text(referral_world, sent, signed_in):
    rw = referral_world
    services.referral_receive(actor=rw.legal_user, referral=sent)
    services.referral_conflict_answer(actor=rw.legal_user, referral=sent, result="clear")
    client = signed_in(rw.legal_user)
    cancel_by_sender(sent)
    events = ReferralEvent.objects.count()
    url = reverse("referrals:portal_step", args=[sent.reference, "accept"])
    response = client.post(url, {"version": "3", "attestation": "Checked against our register on Monday."})
    content = response.content.decode()
    assert response.status_code == 409
    assert "This referral was cancelled by the sender; nothing was changed." in content
    assert "Checked against our register on Monday." in content
    referral = Referral.objects.get(pk=sent.pk)
    assert (referral.state, referral.conflict_attestation) == (S.CANCELLED, "")
    assert ReferralEvent.objects.count() == events


def test_inbox_lists_marks_filters_and_keeps_a_fixed_query_count(
    referral_world, signed_in, django_assert_num_queries
):
    rw = referral_world
    case = make_case(rw.world)
    first = make_referral(rw, case=case)
    client = signed_in(rw.legal_user)
    url = reverse("referrals:portal")
    client.get(url)  # warm the session and caches
    with django_assert_num_queries(12) as one:
        response = client.get(url)
    assert first.reference in response.content.decode()
    assert "Overdue" in response.content.decode()  # sent in March 2026, never received
    for _ in range(6):
        make_referral(rw, case=case)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count("/referrals/portal/RF-") == 7
    received = make_referral(rw, case=case)
    services.referral_receive(actor=rw.legal_user, referral=received)
    filtered = client.get(url, {"state": "received"}).content.decode()
    assert received.reference in filtered and first.reference not in filtered
    assert client.get(url, {"state": "nonsense"}).status_code == 200


def test_inbox_shows_deletion_requests_and_confirming_destroys_the_snapshot(referral_world, sent, signed_in):
    rw = referral_world
    client = signed_in(rw.legal_user)
    content = client.get(reverse("referrals:portal")).content.decode()
    confirm = reverse("referrals:portal_confirm_deletion", args=[sent.reference])
    assert confirm in content
    assert signed_in(rw.counselling_user).post(confirm).status_code == 404
    client = signed_in(rw.legal_user)
    assert client.post(confirm).status_code == 302
    assert LedgerEntry.objects.get(referral=sent).status == LedgerEntry.Status.DELETED
    assert client.get(confirm).status_code == 404  # nothing waits any more
    page = client.get(reverse("referrals:portal_referral", args=[sent.reference])).content.decode()
    assert "You confirmed the deletion" in page
    assert sent.case.person.pseudonym not in page


def test_released_identity_shows_through_the_identity_rule_and_is_audited(referral_world, signed_in):
    rw = referral_world
    officer = protection_unit(rw.world)
    case = make_case(rw.world, protection_level=ProtectionLevel.RESTRICTED, legal_name="Quentin Zyxwell")
    data = {"pseudonym": case.person.pseudonym, "needs": "Advice.", "legal_name": {"pending_release": True}}
    referral = make_referral(rw, case=case, partner=rw.counselling, data=data)
    page = reverse("referrals:portal_referral", args=[referral.reference])
    services.referral_receive(actor=rw.counselling_user, referral=referral)
    services.referral_accept(actor=rw.counselling_user, referral=referral)
    content = signed_in(rw.counselling_user).get(page).content.decode()
    assert "Zyxwell" not in content and "Released after acceptance" in content
    release = reverse("referrals:identity_release", args=[referral.reference])
    for user in (rw.counselling_user, rw.world.caseworker, rw.world.supervisor):
        assert signed_in(user).post(release).status_code == 404
    officer_client = signed_in(officer)
    assert officer_client.get(release).status_code == 200
    assert officer_client.post(release).status_code == 302
    content = signed_in(rw.counselling_user).get(page).content.decode()
    assert "Quentin Zyxwell" in content
    viewed = AuditEvent.objects.get(action="identity.viewed")
    assert (viewed.actor, viewed.fields, viewed.organisation_id) == (
        rw.counselling_user,
        ["legal_name"],
        rw.support.pk,
    )
    # Another user of the same partner sees nothing of it: the grant is the accepting user's.
    assert "Zyxwell" not in signed_in(rw.counselling_admin).get(page).content.decode()


def test_the_partner_dashboard_counts_the_inbox(referral_world, client):
    from core.accounts.testing import sign_in

    sign_in(client, referral_world.legal_user)
    response = client.get("/en/accounts/dashboard/partner_user/")
    assert response.status_code == 200
    labels = [str(queue["label"]) for queue in response.context["partner_queues"]]
    assert labels == ["to receive", "to decide", "in progress", "overdue", "deletions to confirm"]
