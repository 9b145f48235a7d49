"""People, cases, lawful basis, intake, risk, safety, contacts, counselling, documents (SPEC.md §2 casework/).

Identity and narrative live only in Haven's encrypted fields (core.crypto.fields); exact search goes
through keyed blind indexes. Seeing a case comes only from object permissions (core.permissions) or a live
emergency access (casework.access); what of a person's identity a user may see is decided by one rule,
casework.identity.identity_visibility.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.crypto.blind_index import BlindIndexField
from core.crypto.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedTextField,
)
from core.crypto.querysets import EncryptedManager

# --- Vocabularies -------------------------------------------------------------------------------------


class ProtectionLevel(models.TextChoices):
    # With a context: "Open" also names a task state and a link; translators keep the level labels apart.
    OPEN = "open", pgettext_lazy("protection level", "Open")
    CONFIDENTIAL = "confidential", pgettext_lazy("protection level", "Confidential")
    RESTRICTED = "restricted", pgettext_lazy("protection level", "Restricted")
    SEALED = "sealed", pgettext_lazy("protection level", "Sealed")
    ANONYMOUS = "anonymous", pgettext_lazy("protection level", "Anonymous")


PROTECTION_LEVEL_ORDER = {
    ProtectionLevel.OPEN: 0,
    ProtectionLevel.CONFIDENTIAL: 1,
    ProtectionLevel.RESTRICTED: 2,
    ProtectionLevel.SEALED: 3,
    ProtectionLevel.ANONYMOUS: 4,
}


class PersonRole(models.TextChoices):
    VICTIM = "victim", _("Victim")
    WITNESS = "witness", _("Witness")
    WHISTLEBLOWER = "whistleblower", _("Whistleblower")


class AnswerStatus(models.TextChoices):
    """Why an identity field is empty: trauma-informed intake keeps "declined" apart from "unknown"."""

    DECLINED = "declined", _("Declined to answer")
    UNKNOWN = "unknown", _("Unknown")


class CaseKind(models.TextChoices):
    VICTIM_SUPPORT = "victim_support", _("Victim support")
    WHISTLEBLOWER_REPORT = "whistleblower_report", _("Whistleblower report")
    WITNESS_SUPPORT = "witness_support", _("Witness support")


class Category(models.TextChoices):
    FRAUD = "fraud", _("Fraud and scams")
    SEXTORTION = "sextortion", _("Sextortion")
    INTIMATE_IMAGES = "intimate_images", _("Non-consensual intimate images")
    CYBERSTALKING = "cyberstalking", _("Cyberstalking and harassment")
    DOXXING = "doxxing", _("Doxxing")
    IDENTITY_THEFT = "identity_theft", _("Identity theft")
    ACCOUNT_TAKEOVER = "account_takeover", _("Account takeover")
    RANSOMWARE = "ransomware", _("Ransomware")
    CHILD_EXPLOITATION = "child_exploitation", _("Online child sexual exploitation")
    HATE_SPEECH = "hate_speech", _("Hate speech")
    OTHER = "other", _("Other")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


RISK_LEVEL_ORDER = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2, RiskLevel.CRITICAL: 3}


class CaseState(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ASSESSMENT = "assessment", _("Assessment")
    ACTIVE = "active", _("Active")
    ON_HOLD = "on_hold", _("On hold")
    UNREACHABLE = "unreachable", _("Unreachable")
    CLOSING = "closing", _("Closing")
    CLOSED = "closed", _("Closed")


class ClosureReason(models.TextChoices):
    GOALS_MET = "goals_met", _("Support goals met")
    CLIENT_WITHDREW = "client_withdrew", _("The client ended the support")
    UNREACHABLE = "unreachable", _("Client unreachable")
    REFERRED_ELSEWHERE = "referred_elsewhere", _("Referred to another service")
    OUT_OF_SCOPE = "out_of_scope", _("Outside the service's scope")
    DECEASED = "deceased", _("Client deceased")
    DUPLICATE = "duplicate", _("Duplicate case")


class LawfulBasisKind(models.TextChoices):
    CONSENT = "consent", _("Consent")
    VITAL_INTERESTS = "vital_interests", _("Vital interests (emergency)")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")


class ConsentScope(models.TextChoices):
    PROCESSING = "processing", _("Processing of personal data")
    REFERRAL = "referral", _("Referral to partners")
    LAW_ENFORCEMENT = "law_enforcement", _("Sharing with law enforcement")
    CROSS_BORDER = "cross_border", _("Transfer abroad")
    PARTNER_CONTACT = "partner_contact", _("Contact by a partner")
    CONTACT_PHONE = "contact_phone", _("Contact by phone")
    CONTACT_EMAIL = "contact_email", _("Contact by e-mail")
    CONTACT_MESSAGING = "contact_messaging", _("Contact by messaging")
    CONTACT_POST = "contact_post", _("Contact by post")


class ConsentGivenBy(models.TextChoices):
    CLIENT = "client", _("The client")
    GUARDIAN = "guardian", _("A guardian")
    COMPETENT_MINOR = "competent_minor", _("A competent minor")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("Written")
    VERBAL = "verbal", _("Verbal")
    RECORDED = "recorded", pgettext_lazy("how consent was given", "Recorded (audio or video)")


class ChannelKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    MESSAGING = "messaging", _("Messaging account")
    POSTAL = "postal", _("Postal address")
    OTHER = "other", _("Other")


class ChannelSafety(models.TextChoices):
    SAFE = "safe", _("Safe")
    COMPROMISED = "compromised", _("Compromised")
    SAFE_AT_TIMES = "safe_at_times", _("Safe only at certain times")


# --- People -------------------------------------------------------------------------------------------

# The identity fields of a person, in display order. "contact_channels" stands for every channel's value.
IDENTITY_FIELDS: tuple[str, ...] = (
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
CONTACT_FIELDS: tuple[str, ...] = ("contact_channels",)


class Person(models.Model):
    """A victim, witness or whistleblower. `str()` is the pseudonym, never a name."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    pseudonym = models.CharField(_("pseudonym"), max_length=64, unique=True, editable=False)
    role = models.CharField(_("role in the case"), max_length=16, choices=PersonRole.choices)
    protection_level = models.CharField(
        _("protection level"),
        max_length=16,
        choices=ProtectionLevel.choices,
        default=ProtectionLevel.CONFIDENTIAL,
    )
    preferred_name = EncryptedCharField(_("preferred name"), max_length=200, blank=True)
    legal_name = EncryptedCharField(_("legal name"), max_length=200, blank=True)
    other_names = EncryptedTextField(_("other names"), blank=True)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    nationality = EncryptedCharField(_("nationality"), max_length=200, blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    identity_documents = EncryptedTextField(_("identity documents"), blank=True)
    online_handles = EncryptedTextField(_("online handles"), blank=True)
    communication_needs = EncryptedTextField(_("communication needs"), blank=True)
    accessibility_needs = EncryptedTextField(_("accessibility needs"), blank=True)
    language = models.CharField(_("language (ISO 639)"), max_length=16, blank=True)
    needs_interpreter = models.BooleanField(_("needs an interpreter"), default=False)
    is_minor = models.BooleanField(_("minor"), default=False)
    # {field name: "declined" | "unknown"} for identity fields left empty; names only, never values.
    answer_status = models.JSONField(default=dict, blank=True)
    legal_name_index = BlindIndexField(source="legal_name", kind="name")
    preferred_name_index = BlindIndexField(source="preferred_name", kind="name")
    name_and_birth_date_index = BlindIndexField(
        source=("legal_name", "date_of_birth"), kind="name_and_birth_date"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(protection_level__in=[level.value for level in ProtectionLevel]),
                name="person_protection_level_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(is_minor=True) | ~models.Q(protection_level="open"),
                name="person_minor_is_confidential_at_least",
            ),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class ContactChannel(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    value = EncryptedCharField(_("address or number"), max_length=500)
    safety = models.CharField(
        _("safety"), max_length=16, choices=ChannelSafety.choices, default=ChannelSafety.SAFE
    )
    safe_times = EncryptedCharField(_("safe times"), max_length=500, blank=True)
    is_preferred = models.BooleanField(_("preferred"), default=False)
    # Keyed blind index of the value for exact search (phone in E.164, e-mail lower-cased); filled by save().
    value_index = models.CharField(max_length=64, null=True, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("contact channel")
        verbose_name_plural = _("contact channels")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from casework.search import channel_index

        self.value_index = channel_index(self.kind, self.value)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "value" in update_fields:
            kwargs["update_fields"] = {*update_fields, "value_index"}
        super().save(*args, **kwargs)

    @property
    def is_usable(self) -> bool:
        return self.safety != ChannelSafety.COMPROMISED


# --- Cases --------------------------------------------------------------------------------------------


class CaseReferenceCounter(models.Model):
    """The last number handed out per year, taken under a row lock: references never repeat."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Case(models.Model):
    """A support case. Its reference (HV-2026-000123) holds no personal data."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, related_name="cases", null=True, blank=True
    )
    reference = models.CharField(_("case reference"), max_length=20, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(_("kind"), max_length=32, choices=CaseKind.choices)
    categories = models.JSONField(_("cybercrime categories"), default=list, blank=True)
    risk_level = models.CharField(
        _("risk level"), max_length=16, choices=RiskLevel.choices, default=RiskLevel.MEDIUM
    )
    state = models.CharField(_("state"), max_length=16, choices=CaseState.choices, default=CaseState.INTAKE)
    assigned_caseworker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("caseworker"),
    )
    assigned_counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("counsellor"),
    )
    is_minor = models.BooleanField(_("minor"), default=False)
    closure_reason = models.CharField(
        _("closure reason"), max_length=32, choices=ClosureReason.choices, blank=True
    )
    closure_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    closure_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    next_screening_due = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: a form carries the version it was built from; a stale form is refused.
    version = models.PositiveIntegerField(default=1)
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        default_permissions = ("add", "change", "view")
        permissions = [
            ("counsel_case", _("Can record counselling on the case")),
            ("reveal_identity", _("Can reveal the identity of the case's person, audited")),
            ("supervise_case", _("Can supervise the case")),
            ("list_case", _("Can see that the case exists (reference and pseudonym)")),
        ]
        indexes = [
            models.Index(fields=["organisation", "state"], name="case_org_state"),
            models.Index(fields=["assigned_caseworker", "state"], name="case_caseworker_state"),
            models.Index(fields=["team", "state"], name="case_team_state"),
            models.Index(fields=["-opened_at"], name="case_opened_desc"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="closed") | ~models.Q(closure_reason=""),
                name="case_closed_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=[state.value for state in CaseState]), name="case_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("casework:case_detail", kwargs={"reference": self.reference})


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


# --- Lawful basis and consent ---------------------------------------------------------------------------


class LawfulBasis(models.Model):
    """The recorded basis for processing. A basis other than consent needs a reason and a review."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="lawful_bases")
    kind = models.CharField(_("lawful basis"), max_length=32, choices=LawfulBasisKind.choices)
    reason = EncryptedTextField(_("reason"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_upheld = models.BooleanField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("lawful basis")
        verbose_name_plural = _("lawful bases")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reviewed_by=models.F("recorded_by")) | models.Q(reviewed_by__isnull=True),
                name="lawful_basis_reviewed_by_another",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Consent(models.Model):
    """Scoped, revocable consent, with how and by whom it was given."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    scopes = models.JSONField(_("scopes"), default=list)
    given_by = models.CharField(_("given by"), max_length=16, choices=ConsentGivenBy.choices)
    method = models.CharField(_("how"), max_length=16, choices=ConsentMethod.choices)
    notice_version = models.CharField(_("notice version"), max_length=32)
    notice_language = models.CharField(_("notice language"), max_length=16)
    interpreter_present = models.BooleanField(_("interpreter present"), default=False)
    witness_present = models.BooleanField(_("witness present"), default=False)
    given_at = models.DateTimeField(_("given on"))
    expires_at = models.DateTimeField(_("expires on"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn on"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawal_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=models.F("given_at")),
                name="consent_expires_after_given",
            ),
        ]

    def __str__(self) -> str:
        return f"consent #{self.pk}"


class MinorAssessment(models.Model):
    """How a minor's consent is handled: a competence assessment, a guardian, or the guardian kept out."""

    class Outcome(models.TextChoices):
        COMPETENT = "competent", _("Competent to consent alone")
        GUARDIAN_CONSENTS = "guardian_consents", _("A guardian consents")
        GUARDIAN_EXCLUDED = "guardian_excluded", _("The guardian is kept out (suspected)")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="minor_assessments")
    outcome = models.CharField(_("outcome"), max_length=32, choices=Outcome.choices)
    reason = EncryptedTextField(_("reason"))
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(auto_now_add=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"minor assessment #{self.pk}"


# --- Intake -------------------------------------------------------------------------------------------


class IntakeDraft(models.Model):
    """Work in progress of an intake: saved as typed, encrypted, never in the session."""

    class Status(models.TextChoices):
        OPEN = "open", _("In progress")
        SUBMITTED = "submitted", _("Case opened")
        ABANDONED = "abandoned", _("Abandoned")

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    step = models.CharField(max_length=32, default="person")
    data = EncryptedTextField(default="{}")  # JSON of the answers so far
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    version = models.PositiveIntegerField(default=1)
    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="intake_draft"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"intake draft #{self.pk}"


# --- Risk, crisis, safety ----------------------------------------------------------------------------


class RiskQuestionnaire(models.Model):
    """A version of the risk questionnaire. Questions are codes with weights; their labels live in code."""

    version = models.PositiveIntegerField(unique=True)
    is_active = models.BooleanField(default=False)
    questions = models.JSONField()  # [{"code": "self_harm", "weight": 3, "critical": true}, ...]
    thresholds = models.JSONField()  # {"medium": 3, "high": 6, "critical": 10}
    rescreen_days = models.JSONField()  # {"low": 90, "medium": 30, "high": 7, "critical": 2}
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_risk_questionnaire"
            ),
        ]

    def __str__(self) -> str:
        return f"risk questionnaire v{self.version}"


class RiskScreening(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="screenings")
    questionnaire = models.ForeignKey(RiskQuestionnaire, on_delete=models.PROTECT, related_name="+")
    answers = EncryptedTextField()  # JSON {code: "yes" | "no" | "declined" | "unknown"}
    score = models.PositiveSmallIntegerField()
    proposed_level = models.CharField(max_length=16, choices=RiskLevel.choices)
    level = models.CharField(max_length=16, choices=RiskLevel.choices)
    override_reason = EncryptedTextField(blank=True)
    override_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    override_reviewed_at = models.DateTimeField(null=True, blank=True)
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    screened_at = models.DateTimeField()
    next_due = models.DateField()

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"screening #{self.pk}"

    @property
    def is_override(self) -> bool:
        return self.level != self.proposed_level


class CrisisAction(models.Model):
    """An "imminent danger" action: what was done, and when the supervisors on duty were alerted."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="crisis_actions")
    steps_taken = EncryptedTextField(_("steps taken"))
    emergency_services_called = models.BooleanField(_("emergency services called"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"crisis action #{self.pk}"


class SafetyPlan(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="safety_plan")
    safe_contact_times = EncryptedTextField(_("safe times to contact"), blank=True)
    code_word = EncryptedCharField(_("code word"), max_length=200, blank=True)
    device_seizure_steps = EncryptedTextField(_("if a device is seized"), blank=True)
    other_steps = EncryptedTextField(_("other safety steps"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"safety plan #{self.pk}"


# --- Contacts and tasks ------------------------------------------------------------------------------


class Contact(models.Model):
    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("Outgoing")
        INBOUND = "inbound", _("Incoming")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        LEFT_MESSAGE = "left_message", _("Message left")
        UNSAFE_TO_TALK = "unsafe_to_talk", _("Not safe to talk")
        WRONG_NUMBER = "wrong_number", _("Wrong number or address")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    channel = models.ForeignKey(
        ContactChannel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel_kind = models.CharField(
        _("channel"), max_length=16, choices=[*ChannelKind.choices, ("in_person", _("In person"))]
    )
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    interpreter_used = models.BooleanField(_("interpreter used"), default=False)
    occurred_at = models.DateTimeField(_("when"))
    notes = EncryptedTextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = EncryptedManager()

    class Meta:
        indexes = [models.Index(fields=["case", "-occurred_at"], name="contact_case_recent")]

    def __str__(self) -> str:
        return f"contact #{self.pk}"


class TaskKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow-up")
    RESCREEN = "rescreen", _("Risk re-screening")
    RECALL_DEADLINE = "recall_deadline", _("Bank recall deadline")
    WHISTLEBLOWER_ACKNOWLEDGE = "whistleblower_acknowledge", _("Acknowledge the report")
    WHISTLEBLOWER_FEEDBACK = "whistleblower_feedback", _("Give feedback on the report")
    COUNSELLING_FOLLOW_UP = "counselling_follow_up", _("Counselling follow-up")
    REVIEW = "review", _("Review")
    REROUTE = "reroute", _("Re-route a referral")
    OTHER = "other", _("Other")


class Task(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks", null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=TaskKind.choices)
    description = EncryptedTextField(_("description"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tasks",
        null=True,
        blank=True,
        verbose_name=_("assignee"),
    )
    due_on = models.DateField(_("due on"))
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A system task's origin (e.g. "fraud_recall:12"), so beat tasks stay idempotent.
    source_key = models.CharField(max_length=64, blank=True)

    objects = EncryptedManager()

    class Meta:
        indexes = [models.Index(fields=["assignee", "done_at", "due_on"], name="task_assignee_open_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"], condition=~models.Q(source_key=""), name="task_source_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"task #{self.pk}"


class DutyShift(models.Model):
    """A supervisor on duty for a team: crisis alerts go to them first (to every supervisor if nobody is)."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="duty_shifts")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="duty_shifts"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")
        indexes = [models.Index(fields=["team", "ends_at"], name="duty_shift_team_end")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="duty_shift_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"duty shift #{self.pk}"


class EmergencyAccess(models.Model):
    """Duty cover: a team member opens a colleague's case in an emergency, time-boxed and reviewed."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="emergency_accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = EncryptedTextField(_("reason"))
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_upheld = models.BooleanField(null=True, blank=True)

    objects = EncryptedManager()

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="emergency_access_user_expiry")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("started_at")),
                name="emergency_access_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(reviewed_by=models.F("user")) | models.Q(reviewed_by__isnull=True),
                name="emergency_access_reviewed_by_another",
            ),
        ]

    def __str__(self) -> str:
        return f"emergency access #{self.pk}"


# --- Case facts by category ----------------------------------------------------------------------------


class FraudFacts(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="fraud_facts")
    loss_amount = models.DecimalField(_("loss"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency (ISO 4217)"), max_length=3, blank=True)
    bank_notified = models.BooleanField(_("bank notified"), default=False)
    bank_notified_on = models.DateField(_("bank notified on"), null=True, blank=True)
    recall_deadline = models.DateField(_("recall deadline"), null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(loss_amount__isnull=True) | models.Q(loss_amount__gte=0),
                name="fraud_loss_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"fraud facts #{self.pk}"


class CriminalProcess(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="criminal_process")
    reported_to_police = models.BooleanField(_("reported to the police"), default=False)
    reported_on = models.DateField(_("reported on"), null=True, blank=True)
    crime_reference = EncryptedCharField(_("crime reference"), max_length=200, blank=True)
    police_officer = EncryptedCharField(_("police officer"), max_length=200, blank=True)
    referred_by_police = models.BooleanField(_("referred to us by the police"), default=False)
    hearing_dates = models.JSONField(_("hearing dates"), default=list, blank=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"criminal process #{self.pk}"


class WhistleblowerReport(models.Model):
    """Acknowledge within 7 days, feed back within 3 months (Directive (EU) 2019/1937 art. 9)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="whistleblower_report")
    received_on = models.DateField(_("received on"))
    acknowledged_on = models.DateField(_("acknowledged on"), null=True, blank=True)
    feedback_given_on = models.DateField(_("feedback given on"), null=True, blank=True)

    def __str__(self) -> str:
        return f"whistleblower report #{self.pk}"

    @property
    def acknowledge_by(self):  # type: ignore[no-untyped-def]
        return self.received_on + timedelta(days=7)

    @property
    def feedback_by(self):  # type: ignore[no-untyped-def]
        from core.dates import add_months

        return add_months(self.received_on, 3)


class RetaliationEntry(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="retaliation_entries")
    occurred_on = models.DateField(_("occurred on"))
    description = EncryptedTextField(_("what happened"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"retaliation entry #{self.pk}"


# --- Counselling -------------------------------------------------------------------------------------


class CounsellingPlan(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="counselling_plan")
    goals = EncryptedTextField(_("goals"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"counselling plan #{self.pk}"


class CounsellingSession(models.Model):
    class Modality(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("Phone")
        VIDEO = "video", _("Video")
        CHAT = "chat", _("Chat")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="counselling_sessions")
    counsellor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("date"))
    modality = models.CharField(_("modality"), max_length=16, choices=Modality.choices)
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    interpreter_used = models.BooleanField(_("interpreter used"), default=False)
    notes = EncryptedTextField(_("notes"), blank=True)
    next_follow_up = models.DateField(_("next follow-up"), null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = EncryptedManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=1, duration_minutes__lte=600),
                name="session_duration_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"counselling session #{self.pk}"


# --- Documents ---------------------------------------------------------------------------------------


class Document(models.Model):
    """Evidence or a letter, encrypted at rest; the stored name is random, the original name encrypted."""

    class Kind(models.TextChoices):
        EVIDENCE = "evidence", _("Evidence")
        LETTER = "letter", _("Letter")
        OTHER = "other", _("Other")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    storage_name = models.CharField(max_length=100, unique=True, editable=False)
    original_name = EncryptedCharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    keyed_hash = models.CharField(max_length=64)  # HMAC-SHA256 of the plaintext, for integrity and duplicates
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"document #{self.pk}"


class ExploitationReport(models.Model):
    """Online child sexual exploitation: no images are uploaded; URLs, hashes and the report are recorded."""

    class ReportedTo(models.TextChoices):
        HOTLINE = "hotline", _("A hotline")
        POLICE = "police", _("The police")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="exploitation_reports")
    urls = EncryptedTextField(_("URLs"))
    hashes = models.TextField(_("image hashes"), blank=True)
    reported_to = models.CharField(_("reported to"), max_length=16, choices=ReportedTo.choices)
    report_reference = EncryptedCharField(_("report reference"), max_length=200, blank=True)
    reported_on = models.DateField(_("reported on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return f"exploitation report #{self.pk}"


# --- Retention and erasure ---------------------------------------------------------------------------


class ErasureRequest(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        VERIFIED = "verified", _("Verified")
        REFUSED = "refused", _("Refused")
        COMPLETED = "completed", _("Completed")

    class RefusalReason(models.TextChoices):
        PROCEEDINGS = "proceedings", _("Proceedings need the record")
        LEGAL_HOLD = "legal_hold", _("The case is under a legal hold")
        NOT_VERIFIED = "not_verified", _("The request could not be verified")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="erasure_requests")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    verified_through = models.ForeignKey(
        ContactChannel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    refusal_reason = models.CharField(max_length=32, choices=RefusalReason.choices, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"erasure request #{self.pk}"


# --- Case summaries (PDF) ------------------------------------------------------------------------------


class SummaryPurpose(models.TextChoices):
    CLIENT = "client", _("For the client")
    LEGAL_PARTNER = "legal_partner", _("For a legal partner")
    PROTECTION_REVIEW = "protection_review", _("For a protection review")


class CaseSummary(models.Model):
    """A PDF summary of a case, rendered off the request path, redacted for the person who asked.

    The file is stored encrypted under a random name, downloadable by the requester only, and expires after
    24 hours, or as soon as a grant it relied on ends or the person's protection level rises.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting to be made")
        RENDERING = "rendering", _("Being made")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Could not be made")
        EXPIRED = "expired", _("Expired")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="summaries")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(_("purpose"), max_length=24, choices=SummaryPurpose.choices)
    language = models.CharField(_("language"), max_length=16)
    include_counselling = models.BooleanField(_("include counselling notes"), default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField()
    rendered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    storage_name = models.CharField(max_length=100, blank=True)
    keyed_hash = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    page_count = models.PositiveSmallIntegerField(null=True, blank=True)
    # What the rendering relied on: the protection level then, and the disclosure grants it used.
    protection_level = models.CharField(max_length=16, choices=ProtectionLevel.choices, blank=True)
    grant_ids = models.JSONField(default=list, blank=True)
    failure_code = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("case summary")
        verbose_name_plural = _("case summaries")
        indexes = [models.Index(fields=["status", "expires_at"], name="summary_expiry")]

    def __str__(self) -> str:
        return f"case summary #{self.pk}"
