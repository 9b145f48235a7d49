"""A protected model shaped exactly like Case, Person or Referral (see core/permissions.py)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Dossier(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        # view_dossier and change_dossier come from Django's defaults; close_dossier is an action.
        default_permissions = ("view", "change")
        permissions = [("close_dossier", "Can close dossier")]

    def __str__(self) -> str:
        return f"Dossier {self.pk}"


class DossierUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Dossier, on_delete=models.CASCADE)


class DossierGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Dossier, on_delete=models.CASCADE)
