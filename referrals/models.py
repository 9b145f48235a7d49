"""Partner directory and closed-loop referral (SPEC.md §2 referrals/).

The directory is shaped after Open Referral HSDS 3.x (organization → service, with languages, service areas,
contacts). A referral sends a snapshot of only the fields it names, copied encrypted when it is sent; the
partner sees that snapshot and the referral's history, never the live record. Every disclosure is written
to the ledger, so a caseworker can show a client who holds their data.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.crypto.fields import EncryptedTextField
from core.crypto.querysets import EncryptedManager


class ServiceKind(models.TextChoices):
    LEGAL_AID = "legal_aid", _("Legal aid")
    COUNSELLING = "counselling", _("Counselling")
    OTHER = "other", _("Other support")


class Service(models.Model):
    """An HSDS service of a partner organisation."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        DEFUNCT = "defunct", _("Defunct")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ServiceKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    languages = models.JSONField(_("languages (ISO 639)"), default=list)
    countries = models.JSONField(_("countries served (ISO 3166)"), default=list)
    jurisdictions = models.JSONField(_("jurisdictions where they can act"), default=list)
    categories = models.JSONField(_("categories handled"), default=list)
    accepting_referrals = models.BooleanField(_("accepting referrals"), default=True)
    capacity = models.PositiveIntegerField(_("open referrals they can take"), null=True, blank=True)
    email = models.EmailField(_("service e-mail"), blank=True)  # the service's, never a client's
    phone = models.CharField(_("service phone"), max_length=40, blank=True)
    url = models.URLField(_("website"), blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    working_days = models.JSONField(_("working days (0 = Monday)"), default=list)  # [0, 1, 2, 3, 4]
    holidays = models.JSONField(_("holidays"), default=list)  # ["2026-12-25", ...]
    receive_within_working_days = models.PositiveSmallIntegerField(default=2)
    urgent_receive_within_hours = models.PositiveSmallIntegerField(default=4)
    decide_within_working_days = models.PositiveSmallIntegerField(default=5)
    last_verified_on = models.DateField(_("last verified on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceContact(models.Model):
    """A contact at the partner (HSDS contact): partner staff, never a client."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    def __str__(self) -> str:
        return self.name


class PartnerAgreement(models.Model):
    """The data-processing agreement with a partner, and the transfer mechanism for its country."""

    class Mechanism(models.TextChoices):
        NOT_NEEDED = "not_needed", _("No transfer abroad")
        ADEQUACY = "adequacy", _("Adequacy decision")
        STANDARD_CLAUSES = "standard_clauses", _("Standard contractual clauses")
        BINDING_RULES = "binding_rules", _("Binding corporate rules")
        DEROGATION = "derogation", _("Derogation for a specific situation")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="partner_agreements"
    )
    # The support service that made the agreement: only its referrals may rely on it.
    support_service = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="agreements_with_partners"
    )
    country = models.CharField(_("partner's country (ISO 3166)"), max_length=2)
    mechanism = models.CharField(_("transfer mechanism"), max_length=24, choices=Mechanism.choices)
    signed_on = models.DateField(_("signed on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    # Whether the partner acts for the support service (processor) or under its own mandate (a lawyer).
    acts_for_service = models.BooleanField(_("acts for the support service"), default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("partner agreement")
        verbose_name_plural = _("partner agreements")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=models.F("signed_on")),
                name="agreement_expires_after_signing",
            ),
        ]

    def __str__(self) -> str:
        return f"partner agreement #{self.pk}"


class ReferralState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    RECEIVED = "received", _("Received")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class ConflictResult(models.TextChoices):
    CLEAR = "clear", _("No conflict")
    POTENTIAL = "potential", _("Potential conflict")
    CONFLICT = "conflict", _("Conflict")


class ReferralReferenceCounter(models.Model):
    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Referral(models.Model):
    reference = models.CharField(_("referral reference"), max_length=20, unique=True, editable=False)
    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, related_name="referrals")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals")
    partner = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="referrals_received"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=ReferralState.choices, default=ReferralState.DRAFT
    )
    is_urgent = models.BooleanField(_("urgent"), default=False)
    # The fields the snapshot carries (names from referrals.snapshot.SNAPSHOT_FIELDS).
    shared_fields = models.JSONField(_("shared fields"), default=list)
    reason_for_referral = EncryptedTextField(_("what the client needs"), blank=True)
    basis = models.CharField(max_length=24, blank=True)  # consent / emergency, fixed when sent
    consent = models.ForeignKey(
        "casework.Consent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lawful_basis = models.ForeignKey(
        "casework.LawfulBasis", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    conflict_result = models.CharField(max_length=16, choices=ConflictResult.choices, blank=True)
    conflict_attestation = EncryptedTextField(_("conflict attestation"), blank=True)
    outcome_reason = models.CharField(_("reason"), max_length=32, blank=True)  # coded, per end state
    rerouted_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="rerouted_to"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    receive_due_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    decide_due_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        default_permissions = ("view", "change")
        permissions = [
            ("decide_referral", _("Can receive, accept, decline and report on the referral")),
            ("manage_referral", _("Can send, cancel and re-route the referral")),
        ]
        indexes = [
            models.Index(fields=["partner", "state"], name="referral_partner_state"),
            models.Index(fields=["state", "receive_due_at"], name="referral_receive_due"),
            models.Index(fields=["state", "decide_due_at"], name="referral_decide_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=[state.value for state in ReferralState]),
                name="referral_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class ReferralUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralEvent(models.Model):
    """The referral's own history, seen by both sides: states, coded reasons, short notes."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    actor_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=32)  # state_changed, snapshot_sent, conflict_answered, note, reminder
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    note = EncryptedTextField(_("note"), blank=True)
    created_at = models.DateTimeField()

    objects = EncryptedManager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"referral event #{self.pk}"


class ReferralSnapshot(models.Model):
    """Exactly what the partner receives, copied encrypted when the referral is sent."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="snapshot")
    fields = models.JSONField()
    data = EncryptedTextField()  # JSON {field: value}
    created_at = models.DateTimeField()
    destroyed_at = models.DateTimeField(null=True, blank=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"referral snapshot #{self.pk}"


class ConflictCheck(models.Model):
    """Adverse-party identifiers sent before client data leaves; the partner answers."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="conflict_check")
    adverse_parties = EncryptedTextField(_("adverse parties"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()
    result = models.CharField(max_length=16, choices=ConflictResult.choices, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"conflict check #{self.pk}"


class LedgerEntry(models.Model):
    """A disclosure of a person's data to someone outside the support service: what, to whom, why, on
    which basis. Written in the same transaction as the disclosure."""

    class Status(models.TextChoices):
        HELD = "held", _("Held by the recipient")
        DELETION_REQUESTED = "deletion_requested", _("Deletion requested")
        DELETED = "deleted", _("Deletion confirmed")
        NOTIFIED = "notified", _("Recipient told of the withdrawal")

    person = models.ForeignKey("casework.Person", on_delete=models.PROTECT, related_name="ledger_entries")
    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, related_name="ledger_entries")
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger"
    )
    recipient_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fields = models.JSONField()  # field names only
    purpose = models.CharField(max_length=32)  # conflict_check, referral, identity_release
    basis = models.CharField(max_length=24)  # consent, emergency
    disclosed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    disclosed_at = models.DateTimeField()
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.HELD)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("disclosure ledger entry")
        verbose_name_plural = _("disclosure ledger entries")
        indexes = [models.Index(fields=["person", "disclosed_at"], name="ledger_person")]

    def __str__(self) -> str:
        return f"ledger entry #{self.pk}"
