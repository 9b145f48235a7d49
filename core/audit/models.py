"""The audit trail: append-only, tamper-evident events (SPEC.md §2 "The audit trail").

Events form one hash chain per organisation; events without an organisation (for example a failed
sign-in for an unknown username) form the "global" chain, chain key 0. Rows are never changed or removed:
the model refuses it in Python, a PostgreSQL trigger refuses UPDATE and DELETE, and the application's
database role holds no UPDATE, DELETE or TRUNCATE on the table (docs/database-roles.md).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GLOBAL_CHAIN_KEY = 0


class AuditTrailIsAppendOnly(Exception):
    """Raised on any attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events are never updated.")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AuditTrailIsAppendOnly("Audit events are never deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events are never updated.")


class AuditEvent(models.Model):
    """One thing that happened. Holds ids, codes and field names only, never values."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Success")
        REFUSED = "refused", _("Refused")
        FAILURE = "failure", _("Failure")

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    # organisation id, or 0 for the global chain: NULLs never collide in a unique constraint, 0 does.
    chain_key = models.BigIntegerField(_("chain"), editable=False)
    sequence = models.PositiveBigIntegerField(_("sequence number"), editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_staff_code = models.CharField(_("staff identifier"), max_length=16, blank=True)
    action = models.CharField(_("action"), max_length=100)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    fields = models.JSONField(_("field names"), default=list, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    details = models.JSONField(_("details"), default=dict, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("time"), editable=False)
    previous_hash = models.CharField(_("previous hash"), max_length=64, blank=True, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["chain_key", "sequence"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["chain_key", "sequence"], name="audit_event_sequence_unique_per_chain"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(organisation__isnull=True, chain_key=GLOBAL_CHAIN_KEY)
                    | models.Q(organisation__isnull=False, chain_key=models.F("organisation"))
                ),
                name="audit_event_chain_key_is_organisation",
            ),
            models.CheckConstraint(condition=models.Q(sequence__gte=1), name="audit_event_sequence_positive"),
            models.CheckConstraint(
                condition=models.Q(outcome__in=["success", "refused", "failure"]),
                name="audit_event_outcome_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["chain_key", "-created_at"], name="audit_event_chain_time"),
            models.Index(fields=["action"], name="audit_event_action"),
            models.Index(fields=["object_type", "object_id"], name="audit_event_object"),
            models.Index(fields=["actor_staff_code"], name="audit_event_actor_code"),
        ]

    def __str__(self) -> str:
        return f"audit event {self.chain_key}/{self.sequence} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events are never deleted.")
