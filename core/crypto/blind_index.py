"""Keyed blind indexes for exact search over encrypted fields.

An index value is HMAC-SHA256 over the normalised input, keyed per field with a key derived by
HKDF-SHA256 from `settings.HAVEN_BLIND_INDEX_KEY` (info = b"haven-blind-index:" + field name), so the
indexes of two fields cannot be compared with each other and none can be computed without the key.

Kinds and their normalisers:

* ``name`` / ``text``: Unicode NFKC, case folding, trimmed, inner whitespace collapsed to one space;
* ``email``: trimmed, lower-cased;
* ``phone``: E.164 -- leading ``+`` kept (a leading ``00`` becomes ``+``), spaces, dashes, dots and
  parentheses removed; a number without a country code is refused with a translated ValueError.

A date of birth is low-entropy and is indexed ONLY together with a name
(`blind_index_name_and_birth_date`); no function indexes a date alone. Empty values are not indexed
(the index is None).

The pattern for a model (the index column is filled on every save from its source field)::

    class Person(models.Model):
        legal_name = EncryptedCharField(max_length=200, blank=True)
        date_of_birth = EncryptedDateField(null=True, blank=True)
        email = EncryptedEmailField(blank=True)
        legal_name_index = BlindIndexField(source="legal_name", kind="name")
        email_index = BlindIndexField(source="email", kind="email")
        name_and_birth_date_index = BlindIndexField(
            source=("legal_name", "date_of_birth"), kind="name_and_birth_date"
        )

    blind_index_filter(Person.objects.all(), "email", typed_email, "email")
    blind_index_filter_name_and_birth_date(Person.objects.all(), typed_name, typed_date)

Saving with `update_fields` that name a source but not its index is refused, so an index is never stale.
Search only within a queryset already restricted to what the user may see.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.db import models
from django.db.models.signals import pre_save
from django.utils.translation import gettext as _

from core.crypto.exceptions import EncryptedFieldError
from core.crypto.keys import blind_index_root_key

KIND_TEXT = "text"
KIND_NAME = "name"
KIND_EMAIL = "email"
KIND_PHONE = "phone"
KIND_NAME_AND_BIRTH_DATE = "name_and_birth_date"
SINGLE_VALUE_KINDS = frozenset({KIND_TEXT, KIND_NAME, KIND_EMAIL, KIND_PHONE})
KINDS = SINGLE_VALUE_KINDS | {KIND_NAME_AND_BIRTH_DATE}
DEFAULT_NAME_AND_BIRTH_DATE_FIELD = "name_and_birth_date"
INFO_PREFIX = b"haven-blind-index:"
_FIELD_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$")

# --- normalisers ---------------------------------------------------------------------------------


def normalise_text(value: str) -> str:
    """Normalise free text or a name: NFKC, case folding, trim, collapse inner whitespace."""
    value = unicodedata.normalize("NFKC", value)
    value = unicodedata.normalize("NFKC", value.casefold())
    return " ".join(value.split())


normalise_name = normalise_text


def normalise_email(value: str) -> str:
    """Normalise an e-mail address: trim, lower-case."""
    return value.strip().lower()


_PHONE_SEPARATORS = re.compile(r"[\s\-.()\u2010-\u2015\u2212]")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def normalise_phone(value: str) -> str:
    """Normalise a phone number to E.164 (+ and 7-15 digits); refuse one without a country code.

    Digits of any script (e.g. Arabic-Indic) become ASCII digits; spaces, dashes, dots and parentheses
    are removed; a leading 00 becomes +.
    """
    digits = "".join(
        str(unicodedata.decimal(ch)) if unicodedata.decimal(ch, None) is not None else ch
        for ch in value.strip()
    )
    digits = _PHONE_SEPARATORS.sub("", digits).replace("\uff0b", "+")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not _E164.match(digits):
        raise ValueError(
            _(
                "Enter the phone number with its country code, starting with + or 00, "
                "for example +44 20 7946 0000."
            )
        )
    return digits


NORMALISERS = {
    KIND_TEXT: normalise_text,
    KIND_NAME: normalise_name,
    KIND_EMAIL: normalise_email,
    KIND_PHONE: normalise_phone,
}


def normalise(value: str, kind: str) -> str:
    """Normalise `value` for `kind` (text, name, email, phone)."""
    try:
        normaliser = NORMALISERS[kind]
    except KeyError:
        raise ValueError(f"Unknown blind-index kind {kind!r}; a date is indexed only with a name.") from None
    return normaliser(value)


# --- keys and digests ----------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _derive_field_key(root_key: bytes, field: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO_PREFIX + field.encode()).derive(
        root_key
    )


def field_key(field: str) -> bytes:
    """Return the HKDF-derived key of one indexed field (cached per root key and field)."""
    if not _FIELD_NAME_RE.match(field):
        raise ValueError("A blind-index field name must be a short identifier.")
    return _derive_field_key(blind_index_root_key(), field)


def _digest(field: str, kind: str, message: str) -> str:
    # The kind is part of the message so that two kinds can never produce the same index.
    data = kind.encode() + b"\x00" + message.encode("utf-8")
    return hmac.new(field_key(field), data, hashlib.sha256).hexdigest()


def blind_index(field: str, value: str | None, kind: str) -> str | None:
    """Return the hex HMAC-SHA256 blind index of `value` for `field`, or None for an empty value."""
    if kind not in SINGLE_VALUE_KINDS:
        raise ValueError(f"Unknown blind-index kind {kind!r}; a date is indexed only with a name.")
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("A blind index is computed over text; a date needs blind_index_name_and_birth_date.")
    if not value.strip():
        return None
    normalised = normalise(value, kind)
    if not normalised:
        return None
    return _digest(field, kind, normalised)


def blind_index_name_and_birth_date(
    name: str | None, date: datetime.date | None, *, field: str = DEFAULT_NAME_AND_BIRTH_DATE_FIELD
) -> str | None:
    """Return the blind index of a name together with a date of birth, or None if either is empty."""
    if date is None or name is None:
        return None
    if isinstance(date, datetime.datetime) or not isinstance(date, datetime.date):
        raise TypeError("The date of birth must be a datetime.date.")
    normalised = normalise_name(name)
    if not normalised:
        return None
    return _digest(field, KIND_NAME_AND_BIRTH_DATE, normalised + "\x1f" + date.isoformat())


# --- model field and lookups ---------------------------------------------------------------------


class BlindIndexField(models.CharField):
    """A 64-character hex blind-index column, indexed, filled on save from its source field(s).

    `source` names the encrypted field (or, for kind "name_and_birth_date", the name field and the date
    field); `index_name` is the field name used for key derivation (default: the source field's name, or
    "name_and_birth_date"), so keep it stable: changing it invalidates every stored index.
    """

    description = "Keyed blind index (HMAC-SHA256, hex)"

    def __init__(
        self,
        *args: Any,
        source: str | Sequence[str] = "",
        kind: str = KIND_TEXT,
        index_name: str = "",
        **kwargs: Any,
    ) -> None:
        sources = (source,) if isinstance(source, str) else tuple(source)
        if kind not in KINDS:
            raise ValueError(f"Unknown blind-index kind {kind!r}.")
        expected = 2 if kind == KIND_NAME_AND_BIRTH_DATE else 1
        if len(sources) != expected or not all(sources):
            raise ValueError(
                "BlindIndexField needs source=(name_field, date_field) for kind 'name_and_birth_date' and "
                "one source field otherwise."
            )
        self.sources = sources
        self.kind = kind
        self.index_name = index_name or (
            DEFAULT_NAME_AND_BIRTH_DATE_FIELD if kind == KIND_NAME_AND_BIRTH_DATE else sources[0]
        )
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.sources[0] if len(self.sources) == 1 else list(self.sources)
        kwargs["kind"] = self.kind
        default_name = (
            DEFAULT_NAME_AND_BIRTH_DATE_FIELD if self.kind == KIND_NAME_AND_BIRTH_DATE else self.sources[0]
        )
        if self.index_name != default_name:
            kwargs["index_name"] = self.index_name
        for key, default in (
            ("max_length", 64),
            ("db_index", True),
            ("null", True),
            ("blank", True),
            ("editable", False),
        ):
            if kwargs.get(key, getattr(models.CharField(), key)) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def compute(self, model_instance: models.Model) -> str | None:
        """Compute the index from the instance's source value(s)."""
        values = [getattr(model_instance, source) for source in self.sources]
        if self.kind == KIND_NAME_AND_BIRTH_DATE:
            return blind_index_name_and_birth_date(values[0] or None, values[1], field=self.index_name)
        return blind_index(self.index_name, values[0] or None, self.kind)

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value

    def contribute_to_class(self, cls: type[models.Model], name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        if not cls._meta.abstract:
            pre_save.connect(
                _refuse_stale_index,
                sender=cls,
                weak=False,
                dispatch_uid=f"haven-blind-index:{cls._meta.label}",
            )


def blind_index_fields(model: type[models.Model]) -> list[BlindIndexField]:
    """Return the blind-index fields of a model."""
    return [field for field in model._meta.concrete_fields if isinstance(field, BlindIndexField)]


def _refuse_stale_index(
    sender: type[models.Model], instance: models.Model, update_fields: Any = None, **kwargs: Any
) -> None:
    if update_fields is None:
        return
    for field in blind_index_fields(sender):
        if set(field.sources) & set(update_fields) and field.name not in update_fields:
            raise EncryptedFieldError(
                f"save(update_fields=...) names {', '.join(sorted(set(field.sources) & set(update_fields)))} "
                f"but not its blind index {field.name}: the index would be stale. Add it to update_fields."
            )


def _index_field_for(
    model: type[models.Model], source: str | Sequence[str], kind: str | None
) -> BlindIndexField:
    sources = (source,) if isinstance(source, str) else tuple(source)
    for field in blind_index_fields(model):
        if field.sources == sources or (len(sources) == 1 and field.name == sources[0]):
            if kind is not None and field.kind != kind:
                raise ValueError(
                    f"The blind index of {model._meta.label}.{sources[0]} is of kind {field.kind!r}."
                )
            return field
    raise EncryptedFieldError(f"{model._meta.label} has no blind index over {', '.join(sources)}.")


def blind_index_filter(
    queryset: models.QuerySet, field: str, value: str | None, kind: str | None = None
) -> models.QuerySet:
    """Restrict `queryset` to rows whose `field` (the encrypted source field) equals `value` exactly.

    `field` may also name the BlindIndexField itself. An empty value matches nothing; an invalid phone
    number raises ValueError with a translated message.
    """
    index_field = _index_field_for(queryset.model, field, kind)
    if index_field.kind == KIND_NAME_AND_BIRTH_DATE:
        raise ValueError("Use blind_index_filter_name_and_birth_date for a name with a date of birth.")
    digest = blind_index(index_field.index_name, value, index_field.kind)
    if digest is None:
        return queryset.none()
    return queryset.filter(**{index_field.attname: digest})


def blind_index_filter_name_and_birth_date(
    queryset: models.QuerySet, name: str | None, date: datetime.date | None
) -> models.QuerySet:
    """Restrict `queryset` to rows whose name and date of birth both equal the given ones."""
    for field in blind_index_fields(queryset.model):
        if field.kind == KIND_NAME_AND_BIRTH_DATE:
            digest = blind_index_name_and_birth_date(name, date, field=field.index_name)
            if digest is None:
                return queryset.none()
            return queryset.filter(**{field.attname: digest})
    raise EncryptedFieldError(f"{queryset.model._meta.label} has no name-and-birth-date blind index.")
