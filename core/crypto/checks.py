"""System checks for encrypted fields, blind indexes and their keys.

Imported by core.apps.CoreConfig.ready. Errors are what the library would otherwise get silently wrong:
`unique`/`db_index` on ciphertext, ordering, indexes and constraints over encrypted columns.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from core.crypto.blind_index import KIND_NAME_AND_BIRTH_DATE, blind_index_fields
from core.crypto.exceptions import KeyConfigurationError
from core.crypto.fields import encrypted_fields, is_encrypted_field
from core.crypto.keys import blind_index_root_key, field_fernet
from core.crypto.querysets import EncryptedQuerySet


def _field_names_in_expression(expression: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(expression, models.F):
        names.add(expression.name.split("__")[0])
    for source in getattr(expression, "get_source_expressions", list)():
        if source is not None:
            names |= _field_names_in_expression(source)
    return names


def _first(name: str) -> str:
    return name.lstrip("-+").split("__")[0]


def check_model(model: type[models.Model]) -> list[CheckMessage]:
    """Return the encrypted-field and blind-index problems of one model."""
    messages: list[CheckMessage] = []
    encrypted = {field.name: field for field in encrypted_fields(model)}
    encrypted |= {field.attname: field for field in encrypted.values()}
    label = model._meta.label

    for field in model._meta.local_concrete_fields:
        if not is_encrypted_field(field):
            continue
        if field.unique or field.primary_key:
            messages.append(
                Error(
                    f"{label}.{field.name} is encrypted and cannot be unique or a primary key: "
                    "ciphertexts of equal values differ. Put a unique constraint on a blind index instead.",
                    obj=field,
                    id="haven.E101",
                )
            )
        if field.db_index:
            messages.append(
                Error(
                    f"{label}.{field.name} is encrypted; a database index on ciphertext is useless. Use a "
                    "BlindIndexField.",
                    obj=field,
                    id="haven.E102",
                )
            )

    for name in model._meta.ordering or []:
        if isinstance(name, str) and _first(name) in encrypted:
            messages.append(
                Error(
                    f"{label}.Meta.ordering names the encrypted field {_first(name)}.",
                    obj=model,
                    id="haven.E103",
                )
            )
        elif not isinstance(name, str) and _field_names_in_expression(name) & encrypted.keys():
            messages.append(
                Error(f"{label}.Meta.ordering uses an encrypted field.", obj=model, id="haven.E103")
            )

    for group in model._meta.unique_together:
        if set(group) & encrypted.keys():
            messages.append(
                Error(f"{label}.Meta.unique_together names an encrypted field.", obj=model, id="haven.E104")
            )

    for index in model._meta.indexes:
        names = {_first(name) for name in index.fields}
        for expression in index.expressions:
            names |= _field_names_in_expression(expression)
        if names & encrypted.keys():
            messages.append(
                Error(
                    f"{label}.Meta.indexes index the encrypted field(s) "
                    f"{', '.join(sorted(names & encrypted.keys()))}.",
                    obj=model,
                    id="haven.E105",
                )
            )

    for constraint in model._meta.constraints:
        names = {_first(name) for name in getattr(constraint, "fields", ())}
        for expression in getattr(constraint, "expressions", ()):
            names |= _field_names_in_expression(expression)
        for attribute in ("condition",):
            condition = getattr(constraint, attribute, None)
            if isinstance(condition, models.Q):
                names |= {_first(child[0]) for child in condition.flatten() if isinstance(child, tuple)}
        if names & encrypted.keys():
            messages.append(
                Error(
                    f"{label}.Meta.constraints ({constraint.name}) use an encrypted field.",
                    obj=model,
                    id="haven.E106",
                )
            )

    for index_field in blind_index_fields(model):
        for position, source in enumerate(index_field.sources):
            try:
                source_field = model._meta.get_field(source)
            except FieldDoesNotExist:
                source_field = None
            if source_field is None:
                messages.append(
                    Error(
                        f"{label}.{index_field.name} indexes {source}, which is not a field.",
                        obj=index_field,
                        id="haven.E107",
                    )
                )
                continue
            is_date = isinstance(source_field, models.DateField)
            date_position = index_field.kind == KIND_NAME_AND_BIRTH_DATE and position == 1
            if is_date and not date_position:
                messages.append(
                    Error(
                        f"{label}.{index_field.name}: a date is indexed only together with a name "
                        "(kind 'name_and_birth_date').",
                        obj=index_field,
                        id="haven.E108",
                    )
                )

    if encrypted and not isinstance(model._default_manager.all(), EncryptedQuerySet):
        messages.append(
            Warning(
                f"{label} has encrypted fields but its default manager is not "
                "core.crypto.querysets.EncryptedManager; "
                "ordering by an encrypted field would not be refused early.",
                obj=model,
                id="haven.W101",
            )
        )
    return messages


@register(Tags.models)
def check_encrypted_fields(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse unique/db_index/ordering/indexes/constraints over encrypted fields; check blind indexes."""
    configs = app_configs if app_configs is not None else apps.get_app_configs()
    messages: list[CheckMessage] = []
    for app_config in configs:
        for model in app_config.get_models():
            if model._meta.proxy:
                continue
            messages.extend(check_model(model))
    return messages


@register(Tags.security)
def check_crypto_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The field keys and the blind-index key must be present and well-formed (nothing falls back)."""
    messages: list[CheckMessage] = []
    try:
        field_fernet()
    except KeyConfigurationError as error:
        messages.append(Error(str(error), id="haven.E110"))
    else:
        keys = list(settings.HAVEN_FIELD_ENCRYPTION_KEYS)
        if getattr(settings, "FIELD_ENCRYPTION_KEY", None) != keys[0]:
            messages.append(
                Error(
                    "FIELD_ENCRYPTION_KEY must equal the first of HAVEN_FIELD_ENCRYPTION_KEYS.",
                    id="haven.E111",
                )
            )
    try:
        blind_index_root_key()
    except KeyConfigurationError as error:
        messages.append(Error(str(error), id="haven.E112"))
    return messages
