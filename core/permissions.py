"""Object permissions: the one module that talks to django-guardian (STYLE.md habit 3).

Seeing an object comes only from an object permission granted on that object, to the user or to a group
the user is in (a team's group). Model-wide ("global") permissions, the superuser flag and guardian's
anonymous user never widen what anyone sees here (SPEC.md §2 "Accounts and administration", §3), and an
inactive user sees nothing, whatever the database still holds for them (PITFALLS.md "django-guardian").

The pattern for a protected model
---------------------------------
Every protected model (Case, Person, Referral, ...) gets two direct foreign-key permission tables in the
same ``models.py`` and the same first migration, named ``<Model>UserObjectPermission`` and
``<Model>GroupObjectPermission``. The field must be called ``content_object``::

    from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

    class Case(models.Model):
        organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, ...)
        ...

        class Meta:
            # view_case / change_case from Django's defaults; actions as custom permissions.
            default_permissions = ("view", "change")
            permissions = [("close_case", "Can close case"), ("reassign_case", "Can reassign case")]

    class CaseUserObjectPermission(UserObjectPermissionBase):
        content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class CaseGroupObjectPermission(GroupObjectPermissionBase):
        content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

guardian's base classes give the tables a unique (user|group, permission, content_object) index, which is
exactly the index the list query reads (index-only), plus the foreign-key index on ``content_object`` used
by the per-object checks. A model without both tables is refused here (``ImproperlyConfigured``): guardian
would otherwise silently fall back to its generic tables, whose ``object_pk`` is a string.
``tests/perm_app/models.py`` (``Dossier``) is the reference copy.

How apps use this module
------------------------
- lists (selectors.py): ``objects_for_user(user, "casework.view_case", Case.objects.filter(...))``,
  then order and slice as usual; per-row actions on a page with ``perms_prefetch(user, page)``;
- detail and action views (access.py): ``object_get_for(user, Case.objects.all(), pk,
  view_perm="casework.view_case", action_perm="casework.close_case", reason=_("..."))``;
- services that assign, refer and grant: ``perm_grant`` / ``perm_revoke`` / ``perms_transfer`` inside
  their own transaction; each change writes its audit event. Never grant from a view, never by hand, never
  give a role group a model-wide view permission on case data.

Permissions are named ``"app_label.codename"`` (or just ``"codename"``); the app label, when given, must
be the protected model's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connections, models, transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.utils.functional import Promise

    AnyUser = AbstractBaseUser | AnonymousUser | None

__all__ = [
    "objects_for_user",
    "object_get_for",
    "perm_grant",
    "perm_revoke",
    "perms_prefetch",
    "perms_transfer",
    "user_has_perm",
]

ModelT = TypeVar("ModelT", bound=models.Model)

ACTION_GRANTED = "permission.granted"
ACTION_REVOKED = "permission.revoked"

register_action_labels(
    {
        ACTION_GRANTED: _("Access granted"),
        ACTION_REVOKED: _("Access revoked"),
    }
)

DEFAULT_REFUSAL_REASON = _("You can see this record, but you are not allowed to do this with it.")


# --- the direct tables of a protected model --------------------------------------------------------------


@dataclass(frozen=True)
class _Tables:
    user_table: type[UserObjectPermissionBase]
    group_table: type[GroupObjectPermissionBase]
    app_label: str
    model_name: str


@functools.cache
def _tables_for(model: type[models.Model]) -> _Tables:
    """Return the direct permission tables of a protected model, or refuse a model without them."""
    concrete = model._meta.concrete_model
    assert concrete is not None  # for mypy
    user_table: type[UserObjectPermissionBase] | None = None
    group_table: type[GroupObjectPermissionBase] | None = None
    for relation in concrete._meta.related_objects:
        related = relation.related_model
        if relation.field.name != "content_object" or not isinstance(related, type):
            continue
        if issubclass(related, UserObjectPermissionBase):
            user_table = related
        elif issubclass(related, GroupObjectPermissionBase):
            group_table = related
    if user_table is None or group_table is None:
        raise ImproperlyConfigured(
            f"{concrete._meta.label} has no direct object permission tables; "
            "add <Model>UserObjectPermission and <Model>GroupObjectPermission (see core/permissions.py)."
        )
    return _Tables(
        user_table=user_table,
        group_table=group_table,
        app_label=concrete._meta.app_label,
        model_name=concrete._meta.model_name or "",
    )


def _codename(perm: str, tables: _Tables) -> str:
    app_label, dot, codename = perm.rpartition(".")
    if not codename or (dot and app_label != tables.app_label):
        raise ValueError(f"{perm!r} is not a permission of {tables.app_label}.{tables.model_name}.")
    return codename


def _permission_lookup(codename: str, tables: _Tables) -> dict[str, Any]:
    """Filter grant rows by permission id, found by a scalar subquery (no separate Permission query).

    PostgreSQL runs the subquery once (an InitPlan), so the grant tables are read through their unique
    (grantee, permission, object) index with both leading columns fixed.
    """
    permission_id = (
        Permission.objects.filter(
            codename=codename, content_type__app_label=tables.app_label, content_type__model=tables.model_name
        )
        .order_by()
        .values("pk")
    )
    return {"permission_id": models.Subquery(permission_id)}


def _model_permissions_lookup(tables: _Tables) -> dict[str, Any]:
    """Filter grant rows to the permissions of the protected model (any codename)."""
    content_type = ContentType.objects.filter(app_label=tables.app_label, model=tables.model_name)
    content_type_id = content_type.order_by().values("pk")
    return {"permission__content_type_id": models.Subquery(content_type_id)}


def _is_active_user(user: AnyUser) -> bool:
    return (
        user is not None
        and bool(getattr(user, "is_authenticated", False))
        and bool(getattr(user, "is_active", False))
        and getattr(user, "pk", None) is not None
    )


def _grant_rows(user: AbstractBaseUser | AnonymousUser, tables: _Tables, **lookup: Any) -> tuple[Any, Any]:
    """Return (direct grants, grants through the user's groups) of an active user, as two querysets.

    Both re-check ``is_active`` in the database (a scalar subquery that yields NULL, hence no rows, for an
    inactive user), so a user object loaded before a deactivation (a task, a long request) sees nothing.
    """
    active_user_id = models.Subquery(
        get_user_model()._base_manager.filter(pk=cast(int, user.pk), is_active=True).order_by().values("pk")
    )
    direct = tables.user_table.objects.filter(user_id=active_user_id, **lookup)
    memberships = _group_memberships()._default_manager.filter(user_id=active_user_id)
    through_groups = tables.group_table.objects.filter(group_id__in=memberships.values("group_id"), **lookup)
    return direct, through_groups


def _group_memberships() -> type[models.Model]:
    """Return the user-group membership table (``auth_user_groups`` or the custom user's own)."""
    return get_user_model().groups.through  # type: ignore[attr-defined, no-any-return]


# --- reading ------------------------------------------------------------------------------------------------


def objects_for_user(user: AnyUser, perm: str, queryset: models.QuerySet[ModelT]) -> models.QuerySet[ModelT]:
    """Return the objects of ``queryset`` on which ``user`` holds ``perm`` by an object grant.

    One query: ``WHERE id = ANY(ARRAY(ids granted to the user UNION ids granted to the user's groups))``:
    PostgreSQL reads the grant tables through their unique indexes, then looks the ids up in the primary
    key index, whatever the size of the protected table (about 1 ms at a million rows). Model-wide
    permissions and the superuser flag are ignored; anonymous and inactive users get ``queryset.none()``.
    The result can be filtered, ordered and sliced further.
    """
    if not _is_active_user(user):
        return queryset.none()
    assert user is not None  # for mypy
    tables = _tables_for(queryset.model)
    lookup = _permission_lookup(_codename(perm, tables), tables)
    direct, through_groups = _grant_rows(user, tables, **lookup)
    granted_ids = direct.values("content_object_id").union(through_groups.values("content_object_id"))
    if connections[queryset.db].vendor == "postgresql":
        # "id = ANY(ARRAY(<union>))": the ids are collected once, then looked up in the primary key index.
        # A plain "id IN (<union>)" lets the planner walk the whole primary key backwards for
        # ORDER BY id DESC LIMIT n, as guardian's query does (97,000 index entries at a million rows).
        return queryset.filter(_PkAmong(granted_ids))
    return queryset.filter(pk__in=granted_ids)  # SQLite, local quick start only


class _PkAmong(models.Expression):
    """The condition ``<pk> = ANY(ARRAY(<subquery of ids>))`` (PostgreSQL), usable in ``filter()``."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, ids: models.QuerySet[Any]) -> None:
        super().__init__()
        self.pk: Any = models.F("pk")
        self.ids: Any = models.Subquery(ids)

    def get_source_expressions(self) -> list[Any]:
        return [self.pk, self.ids]

    def set_source_expressions(self, expressions: Sequence[Any]) -> None:
        self.pk, self.ids = expressions

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        pk_sql, pk_params = compiler.compile(self.pk)
        ids_sql, ids_params = compiler.compile(self.ids)
        return f"{pk_sql} = ANY(ARRAY{ids_sql})", (*pk_params, *ids_params)


def user_has_perm(user: AnyUser, perm: str, obj: models.Model) -> bool:
    """Return whether ``user`` holds ``perm`` on ``obj`` by an object grant (one query).

    Never true for anonymous or inactive users, never through model-wide permissions or the superuser flag.
    """
    if not _is_active_user(user) or obj.pk is None:
        return False
    assert user is not None  # for mypy
    tables = _tables_for(type(obj))
    lookup = _permission_lookup(_codename(perm, tables), tables)
    direct, through_groups = _grant_rows(user, tables, content_object_id=obj.pk, **lookup)
    return direct.values("pk").union(through_groups.values("pk")).exists()


def perms_prefetch(user: AnyUser, objects: Iterable[ModelT]) -> dict[Any, frozenset[str]]:
    """Return ``{pk: frozenset of codenames}`` for a page of objects of one model, in two queries.

    Pass objects already fetched (a page, a list): a queryset is evaluated first. Each object also gets
    the same set as ``obj.granted_perms``, for templates (``{% if "close_case" in case.granted_perms %}``).
    Codenames carry no app label: they belong to the one model of the page. Inactive or anonymous users
    get empty sets without a query.
    """
    objects = list(objects)
    if not objects:
        return {}
    model = type(objects[0])
    if any(type(obj) is not model for obj in objects):
        raise ValueError("perms_prefetch takes objects of one model at a time.")
    granted: dict[Any, set[str]] = {obj.pk: set() for obj in objects}
    if _is_active_user(user):
        assert user is not None  # for mypy
        tables = _tables_for(model)
        lookup = {"content_object_id__in": list(granted), **_model_permissions_lookup(tables)}
        for rows in _grant_rows(user, tables, **lookup):
            for object_id, codename in rows.values_list("content_object_id", "permission__codename"):
                granted[object_id].add(codename)
    result = {pk: frozenset(codenames) for pk, codenames in granted.items()}
    for obj in objects:
        obj.granted_perms = result[obj.pk]  # type: ignore[attr-defined]
    return result


def object_get_for(
    user: AnyUser,
    queryset: models.QuerySet[ModelT],
    pk: object,
    *,
    view_perm: str,
    action_perm: str | None = None,
    reason: str | Promise | None = None,
) -> ModelT:
    """Fetch one object the user may see, or refuse.

    Raise ``Http404`` when the object is missing, invisible to the user, or ``pk`` is not a valid key at all
    (the three look the same, so ids reveal nothing). Raise ``PermissionDenied(reason)`` when the user may
    see the object but lacks ``action_perm``; ``reason`` is a translated sentence for the 403 page.
    """
    model = queryset.model
    try:
        key = model._meta.pk.to_python(pk)  # type: ignore[union-attr]
    except (ValidationError, TypeError, ValueError, OverflowError):
        raise Http404 from None
    if key is None or key == "":
        raise Http404
    try:
        obj = objects_for_user(user, view_perm, queryset).get(pk=key)
    except (ObjectDoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    if action_perm is not None and not user_has_perm(user, action_perm, obj):
        raise PermissionDenied(reason if reason is not None else DEFAULT_REFUSAL_REASON)
    return obj


# --- writing ------------------------------------------------------------------------------------------------


def _grantee(
    tables: _Tables, user: AbstractBaseUser | None, group: Group | None
) -> tuple[type[models.Model], dict[str, Any], dict[str, int | None]]:
    if (user is None) == (group is None):
        raise ValueError("Grant to exactly one of user or group.")
    if user is not None:
        if user.pk is None:
            raise ValueError("The user must be saved first.")
        return tables.user_table, {"user": user}, {"grantee_user": user.pk, "grantee_group": None}
    assert group is not None  # for mypy
    if group.pk is None:
        raise ValueError("The group must be saved first.")
    return tables.group_table, {"group": group}, {"grantee_user": None, "grantee_group": group.pk}


def _permission_of(perm: str, tables: _Tables) -> Permission:
    codename = _codename(perm, tables)
    try:
        return Permission.objects.get(
            codename=codename, content_type__app_label=tables.app_label, content_type__model=tables.model_name
        )
    except Permission.DoesNotExist:
        raise ValueError(f"{perm!r} is not a permission of {tables.app_label}.{tables.model_name}.") from None


def _audit(
    *,
    action: str,
    actor: AnyUser,
    obj: models.Model,
    permission: Permission,
    grantee: dict[str, int | None],
    reason_code: str,
) -> None:
    audit_event_create(
        action=action,
        actor=actor,
        target=obj,
        details={
            "perm": f"{permission.content_type.app_label}.{permission.codename}",
            **grantee,
            "reason": reason_code,
        },
    )


def perm_grant(
    *,
    actor: AnyUser,
    perm: str,
    obj: models.Model,
    user: AbstractBaseUser | None = None,
    group: Group | None = None,
    reason_code: str = "",
) -> bool:
    """Grant ``perm`` on ``obj`` to one user or one group; return whether anything changed.

    Idempotent: granting what is already granted leaves the single existing row and writes no event. A
    change writes a ``permission.granted`` audit event in the same transaction. ``reason_code`` is a code
    (``"case.assigned"``), never free text. Who may grant is the calling service's decision.
    """
    if obj.pk is None:
        raise ValueError("The object must be saved first.")
    tables = _tables_for(type(obj))
    table, grantee_lookup, grantee = _grantee(tables, user, group)
    with transaction.atomic():
        permission = _permission_of(perm, tables)
        _, created = table._default_manager.get_or_create(
            permission=permission, content_object=obj, **grantee_lookup
        )
        if created:
            _audit(
                action=ACTION_GRANTED,
                actor=actor,
                obj=obj,
                permission=permission,
                grantee=grantee,
                reason_code=reason_code,
            )
    return created


def perm_revoke(
    *,
    actor: AnyUser,
    perm: str,
    obj: models.Model,
    user: AbstractBaseUser | None = None,
    group: Group | None = None,
    reason_code: str = "",
) -> bool:
    """Revoke ``perm`` on ``obj`` from one user or one group; return whether anything changed.

    Idempotent: revoking what is not granted writes nothing. A change writes a ``permission.revoked`` audit
    event in the same transaction. Grants the user holds through a group are untouched: revoke them from
    the group, or take the user out of the team.
    """
    if obj.pk is None:
        raise ValueError("The object must be saved first.")
    tables = _tables_for(type(obj))
    table, grantee_lookup, grantee = _grantee(tables, user, group)
    with transaction.atomic():
        permission = _permission_of(perm, tables)
        deleted, _ = table._default_manager.filter(
            permission=permission, content_object=obj, **grantee_lookup
        ).delete()
        if deleted:
            _audit(
                action=ACTION_REVOKED,
                actor=actor,
                obj=obj,
                permission=permission,
                grantee=grantee,
                reason_code=reason_code,
            )
    return bool(deleted)


def perms_transfer(
    *,
    actor: AnyUser,
    obj: models.Model,
    perms: Sequence[str],
    from_user: AbstractBaseUser,
    to_user: AbstractBaseUser,
    reason_code: str = "",
) -> None:
    """Move the direct grants ``perms`` on ``obj`` from one user to another, atomically (a reassignment).

    ``to_user`` receives every permission in ``perms``, whether or not ``from_user`` held it; each actual
    grant and revocation is audited. Group grants are untouched.
    """
    if from_user.pk == to_user.pk:
        raise ValueError("Transfer between two different users.")
    with transaction.atomic():
        for perm in perms:
            perm_grant(actor=actor, perm=perm, obj=obj, user=to_user, reason_code=reason_code)
            perm_revoke(actor=actor, perm=perm, obj=obj, user=from_user, reason_code=reason_code)
