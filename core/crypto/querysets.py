"""A queryset guard for models with encrypted fields: refuses ordering, distinct and expression updates
on encrypted columns early, with a clear message, and keeps blind indexes from going stale.

Use `objects = EncryptedManager()` on every model that has encrypted fields (a system check warns
otherwise). The field-level guards in core/crypto/fields.py hold even without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.expressions import F, OrderBy

from core.crypto.blind_index import blind_index_fields
from core.crypto.exceptions import EncryptedFieldError
from core.crypto.fields import defer_encrypted, is_encrypted_field


def _resolves_to_encrypted(model: type[models.Model], path: str) -> bool:
    """Follow a `a__b__c` path through relations; return whether any step is an encrypted field."""
    current = model
    for part in path.split("__"):
        if part == "pk":
            return False
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if is_encrypted_field(field):
            return True
        related = getattr(field, "related_model", None)
        if related is None:
            return False
        current = related
    return False


def _names_in(items: Iterable[Any]) -> Iterable[str]:
    for item in items:
        if isinstance(item, str):
            yield item.lstrip("-+")
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            yield item.expression.name
        elif isinstance(item, F):
            yield item.name


class EncryptedQuerySet(models.QuerySet):
    """QuerySet that refuses operations that cannot work on ciphertext."""

    def _refuse_paths(self, operation: str, items: Iterable[Any]) -> None:
        for name in _names_in(items):
            if name != "?" and _resolves_to_encrypted(self.model, name):
                raise EncryptedFieldError(
                    f"{operation}({name!r}) on {self.model._meta.label} is refused: {name} is encrypted and "
                    "its ciphertext has no meaningful order."
                )

    def order_by(self, *field_names: Any) -> EncryptedQuerySet:
        self._refuse_paths("order_by", field_names)
        return super().order_by(*field_names)

    def distinct(self, *field_names: Any) -> EncryptedQuerySet:
        self._refuse_paths("distinct", field_names)
        return super().distinct(*field_names)

    def update(self, **kwargs: Any) -> int:
        sources = {source for field in blind_index_fields(self.model) for source in field.sources}
        for name, value in kwargs.items():
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if not is_encrypted_field(field):
                continue
            if hasattr(value, "resolve_expression"):
                raise EncryptedFieldError(
                    f"update({name}=<expression>) on {self.model._meta.label} is refused: an expression "
                    "would be stored instead of an encrypted value."
                )
            if field.name in sources:
                raise EncryptedFieldError(
                    f"update({name}=...) on {self.model._meta.label} is refused: its blind index would be "
                    "stale. Change the value through a service that saves each instance."
                )
        return super().update(**kwargs)

    def bulk_update(
        self, objs: Iterable[models.Model], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        fields = list(fields)
        for name in fields:
            if is_encrypted_field(self.model._meta.get_field(name)):
                raise EncryptedFieldError(
                    f"bulk_update() of {self.model._meta.label}.{name} is refused: it writes SQL "
                    "expressions, not encrypted values. Save each instance instead."
                )
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def defer_encrypted(self) -> EncryptedQuerySet:
        """Defer every encrypted column (for lists and searches)."""
        return defer_encrypted(self)


class EncryptedManager(models.Manager.from_queryset(EncryptedQuerySet)):  # type: ignore[misc]
    """The default manager for models with encrypted fields."""
