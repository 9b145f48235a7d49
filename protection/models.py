"""Identity protection and witness-protection measures (SPEC.md §2 protection/).

Protection officers decide who may ever learn a protected person's identity. The protection level itself
lives on casework.Person; this app records its history, the disclosure requests and grants that open it,
handling instructions, the measures register and threat assessments. Haven never stores a new identity or
a relocation address: a measure records that it exists and who holds the details.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casework.models import ProtectionLevel
from core.crypto.fields import EncryptedTextField
from core.crypto.querysets import EncryptedManager


class LevelChange(models.Model):
    """One change of a person's protection level. Raising is immediate; lowering needs an officer."""

    person = models.ForeignKey("casework.Person", on_delete=models.CASCADE, related_name="level_changes")
    from_level = models.CharField(max_length=16, choices=ProtectionLevel.choices)
    to_level = models.CharField(max_length=16, choices=ProtectionLevel.choices)
    reason = EncryptedTextField(_("reason"), blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("protection level change")
        verbose_name_plural = _("protection level changes")

    def __str__(self) -> str:
        return f"level change #{self.pk}"


class DisclosureRequest(models.Model):
    """A case-team member asks for named identity fields, with a justification; an officer decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a decision")
        AWAITING_SECOND = "awaiting_second", _("Waiting for a second officer")
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")

    person = models.ForeignKey(
        "casework.Person", on_delete=models.CASCADE, related_name="disclosure_requests"
    )
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="disclosure_requests")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    fields = models.JSONField(_("identity fields"))
    purpose = EncryptedTextField(_("purpose"))
    justification = EncryptedTextField(_("justification"))
    requested_hours = models.PositiveSmallIntegerField(_("for how many hours"), default=72)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    first_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    first_decided_at = models.DateTimeField(null=True, blank=True)
    second_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    second_decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = EncryptedTextField(_("reason for the decision"), blank=True)
    # The person is told before a disclosure, unless an officer records why not.
    person_notified_at = models.DateTimeField(null=True, blank=True)
    no_notification_reason = EncryptedTextField(_("why the person is not told"), blank=True)
    created_at = models.DateTimeField()

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("disclosure request")
        verbose_name_plural = _("disclosure requests")
        indexes = [models.Index(fields=["status", "created_at"], name="disclosure_request_queue")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(first_decided_by=models.F("requester"))
                | models.Q(first_decided_by__isnull=True),
                name="disclosure_not_decided_by_requester",
            ),
            models.CheckConstraint(
                condition=~models.Q(second_decided_by=models.F("first_decided_by"))
                | models.Q(second_decided_by__isnull=True),
                name="disclosure_two_different_officers",
            ),
            models.CheckConstraint(
                condition=models.Q(requested_hours__gte=1, requested_hours__lte=24 * 30),
                name="disclosure_hours_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"disclosure request #{self.pk}"


class DisclosureGrant(models.Model):
    """Access to named identity fields of one person, for one user, one purpose, until an expiry."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("Approved request")
        STANDING_CONTACT = "standing_contact", _("Standing contact grant")
        REFERRAL = "referral", _("Bound to a referral")

    person = models.ForeignKey("casework.Person", on_delete=models.CASCADE, related_name="disclosure_grants")
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="disclosure_grants"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    request = models.OneToOneField(
        DisclosureRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="grant"
    )
    referral_id = models.PositiveBigIntegerField(null=True, blank=True)  # set by the referrals app
    fields = models.JSONField(_("identity fields"))
    purpose = EncryptedTextField(_("purpose"), blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)  # None only while bound to a live referral
    review_due_at = models.DateTimeField(null=True, blank=True)  # standing contact grants: every 30 days
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    ended_reason = models.CharField(
        max_length=32, blank=True
    )  # expired, revoked, level_raised, referral_ended

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("disclosure grant")
        verbose_name_plural = _("disclosure grants")
        indexes = [
            models.Index(fields=["grantee", "person", "revoked_at"], name="grant_lookup"),
            models.Index(fields=["expires_at"], name="grant_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=models.F("starts_at")),
                name="grant_expires_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="referral") | models.Q(referral_id__isnull=False),
                name="grant_referral_has_referral",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="referral") | models.Q(expires_at__isnull=False),
                name="grant_expires_unless_bound_to_referral",
            ),
        ]

    def __str__(self) -> str:
        return f"disclosure grant #{self.pk}"


class HandlingInstruction(models.Model):
    """What everyone on the case must do (or never do), written without the identity."""

    person = models.OneToOneField(
        "casework.Person", on_delete=models.CASCADE, related_name="handling_instruction"
    )
    text = EncryptedTextField(_("handling instructions"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("handling instructions")
        verbose_name_plural = _("handling instructions")

    def __str__(self) -> str:
        return f"handling instructions #{self.pk}"


class MeasureCategory(models.TextChoices):
    IDENTITY = "identity", _("Identity")
    PROCEDURAL = "procedural", _("Procedural")
    PHYSICAL = "physical", _("Physical")
    RELATIVES = "relatives", _("For relatives")


class MeasureKind(models.TextChoices):
    COURT_PSEUDONYM = "court_pseudonym", _("Pseudonym for court")
    REDACTION_ORDER = "redaction_order", _("Redaction order")
    ADDRESS_CONFIDENTIALITY = "address_confidentiality", _("Address confidentiality")
    SAFE_CONTACT_PROTOCOL = "safe_contact_protocol", _("Safe-contact protocol")
    VIDEO_LINK = "video_link", _("Testimony by video link")
    DISTORTION = "distortion", _("Voice or image distortion")
    SCREENS = "screens", _("Screens in the courtroom")
    CLOSED_SESSION = "closed_session", _("Closed session")
    ANONYMOUS_TESTIMONY = "anonymous_testimony", _("Anonymous testimony")
    SUPPORT_PERSON = "support_person", _("Support person")
    POLICE_PROTECTION = "police_protection", _("Police protection")
    ALARM = "alarm", _("Alarm")
    RELOCATION = "relocation", _("Relocation")
    IDENTITY_CHANGE = "identity_change", _("Change of identity")
    RELATIVES_PROTECTION = "relatives_protection", _("Protection of relatives")


MEASURE_CATEGORY_OF: dict[str, str] = {
    MeasureKind.COURT_PSEUDONYM: MeasureCategory.IDENTITY,
    MeasureKind.REDACTION_ORDER: MeasureCategory.IDENTITY,
    MeasureKind.ADDRESS_CONFIDENTIALITY: MeasureCategory.IDENTITY,
    MeasureKind.SAFE_CONTACT_PROTOCOL: MeasureCategory.IDENTITY,
    MeasureKind.VIDEO_LINK: MeasureCategory.PROCEDURAL,
    MeasureKind.DISTORTION: MeasureCategory.PROCEDURAL,
    MeasureKind.SCREENS: MeasureCategory.PROCEDURAL,
    MeasureKind.CLOSED_SESSION: MeasureCategory.PROCEDURAL,
    MeasureKind.ANONYMOUS_TESTIMONY: MeasureCategory.PROCEDURAL,
    MeasureKind.SUPPORT_PERSON: MeasureCategory.PROCEDURAL,
    MeasureKind.POLICE_PROTECTION: MeasureCategory.PHYSICAL,
    MeasureKind.ALARM: MeasureCategory.PHYSICAL,
    MeasureKind.RELOCATION: MeasureCategory.PHYSICAL,
    MeasureKind.IDENTITY_CHANGE: MeasureCategory.PHYSICAL,
    MeasureKind.RELATIVES_PROTECTION: MeasureCategory.RELATIVES,
}


class ProtectionMeasure(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")
        REFUSED = "refused", _("Refused")

    person = models.ForeignKey(
        "casework.Person", on_delete=models.CASCADE, related_name="protection_measures"
    )
    kind = models.CharField(_("measure"), max_length=32, choices=MeasureKind.choices)
    category = models.CharField(_("category"), max_length=16, choices=MeasureCategory.choices)
    legal_basis = EncryptedTextField(_("legal basis"))
    # Who holds the details (a new identity, an address) — Haven never stores them.
    details_held_by = EncryptedTextField(_("who holds the details"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    review_on = models.DateField(_("review on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("protection measure")
        verbose_name_plural = _("protection measures")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="measure_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"protection measure #{self.pk}"


class ThreatAssessment(models.Model):
    person = models.ForeignKey("casework.Person", on_delete=models.CASCADE, related_name="threat_assessments")
    sources = models.JSONField(_("sources of threat"), default=list)
    threat_kinds = models.JSONField(_("kinds of threat"), default=list)
    vulnerabilities = models.JSONField(_("vulnerability factors"), default=list)
    score = models.PositiveSmallIntegerField(_("score"))
    proposed_level = models.CharField(max_length=16, choices=ProtectionLevel.choices, blank=True)
    review_interval_days = models.PositiveSmallIntegerField(_("review every (days)"))
    next_review_on = models.DateField(_("next review"))
    notes = EncryptedTextField(_("notes"), blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField()

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("threat assessment")
        verbose_name_plural = _("threat assessments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(review_interval_days__gte=1, review_interval_days__lte=365),
                name="threat_review_interval_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"threat assessment #{self.pk}"
