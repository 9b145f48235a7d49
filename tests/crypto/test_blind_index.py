"""Blind indexes: normalisers, key derivation, the model pattern and the exact-match helpers."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import string

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from core.crypto.blind_index import (
    BlindIndexField,
    blind_index,
    blind_index_filter,
    blind_index_filter_name_and_birth_date,
    blind_index_name_and_birth_date,
    field_key,
    normalise,
    normalise_email,
    normalise_name,
    normalise_phone,
)
from core.crypto.exceptions import EncryptedFieldError, KeyConfigurationError
from tests.crypto.conftest import raw_column
from tests.crypto_app.models import Secret

# --- normalisers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Amina   Example ", "amina example"),
        ("AMINA\tEXAMPLE\n", "amina example"),
        ("Ａｍｉｎａ　Ｅｘａｍｐｌｅ", "amina example"),  # full-width letters and ideographic space
        ("Straße", "strasse"),
        ("e\u0301cole", "école"),  # combining accent composes under NFKC
        ("ﬁona", "fiona"),  # ligature
        ("   ", ""),
    ],
)
def test_normalise_name(raw, expected):
    assert normalise_name(raw) == expected


def test_normalise_email():
    assert normalise_email("  Amina.Example@Example.ORG ") == "amina.example@example.org"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 20 7946 0000", "+442079460000"),
        ("0044 (20) 7946-0000", "+442079460000"),
        ("+1.415.555.0100", "+14155550100"),
        ("+٩٧١ ٥٠ ١٢٣ ٤٥٦٧", "+971501234567"),  # Arabic-Indic digits
        ("＋３３ １ ２３ ４５ ６７ ８９", "+33123456789"),  # full-width
    ],
)
def test_normalise_phone(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["020 7946 0000", "7946 0000", "+0 20 7946 0000", "+44 20 abc", "+1234", "+" + "1" * 16, "phone me"],
)
def test_phone_without_country_code_is_refused_with_a_translated_message(raw):
    with pytest.raises(ValueError, match="country code"):
        normalise_phone(raw)
    with translation.override("en"), pytest.raises(ValueError, match="country code"):
        blind_index("phone", raw, "phone")


# --- digests ------------------------------------------------------------------------------------------


def _expected(field: str, kind: str, message: str) -> str:
    root = base64.urlsafe_b64decode(settings.HAVEN_BLIND_INDEX_KEY)
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"haven-blind-index:" + field.encode()
    ).derive(root)
    return hmac.new(key, kind.encode() + b"\x00" + message.encode(), hashlib.sha256).hexdigest()


def test_blind_index_is_hmac_sha256_with_an_hkdf_field_key():
    digest = blind_index("legal_name", "  AMINA Example ", "name")
    assert digest == _expected("legal_name", "name", "amina example")
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_each_field_has_its_own_key():
    assert field_key("legal_name") != field_key("other_names")
    assert blind_index("legal_name", "Amina", "name") != blind_index("other_names", "Amina", "name")
    assert blind_index("legal_name", "Amina", "name") != blind_index("legal_name", "Amina", "text")


def test_empty_values_are_not_indexed():
    for value in (None, "", "   ", "\u3000"):
        assert blind_index("legal_name", value, "name") is None
        assert blind_index("phone", value, "phone") is None
    assert blind_index_name_and_birth_date("", datetime.date(1990, 1, 1)) is None
    assert blind_index_name_and_birth_date("Amina", None) is None


def test_a_date_is_never_indexed_alone():
    with pytest.raises(ValueError):
        blind_index("date_of_birth", "1990-05-17", "date")
    with pytest.raises(TypeError):
        blind_index("date_of_birth", datetime.date(1990, 5, 17), "text")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        normalise("1990-05-17", "date")


def test_name_and_birth_date_index():
    one = blind_index_name_and_birth_date(" AMINA example", datetime.date(1990, 5, 17))
    assert one == blind_index_name_and_birth_date("amina Example", datetime.date(1990, 5, 17))
    assert one == _expected("name_and_birth_date", "name_and_birth_date", "amina example\x1f1990-05-17")
    assert one != blind_index_name_and_birth_date("amina example", datetime.date(1990, 5, 18))
    assert one != blind_index_name_and_birth_date("amina exampl", datetime.date(1990, 5, 17))
    with pytest.raises(TypeError):
        blind_index_name_and_birth_date("Amina", "1990-05-17")  # type: ignore[arg-type]


def test_the_key_is_read_lazily_and_fails_closed():
    before = blind_index("legal_name", "Amina", "name")
    other = base64.urlsafe_b64encode(b"k" * 32).decode()
    with override_settings(HAVEN_BLIND_INDEX_KEY=other):
        assert blind_index("legal_name", "Amina", "name") != before
    assert blind_index("legal_name", "Amina", "name") == before
    with override_settings(HAVEN_BLIND_INDEX_KEY=""), pytest.raises(KeyConfigurationError):
        blind_index("legal_name", "Amina", "name")
    short_key = base64.urlsafe_b64encode(b"short").decode()
    with override_settings(HAVEN_BLIND_INDEX_KEY=short_key), pytest.raises(KeyConfigurationError):
        blind_index("legal_name", "Amina", "name")


# --- hypothesis -----------------------------------------------------------------------------------------

LETTERS = string.ascii_letters + string.digits + "àéèüöñçøåæœ' -"
_FULLWIDTH = {ord(ch): ord(ch) + 0xFEE0 for ch in string.ascii_letters + string.digits}


def _fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


@given(
    st.text(alphabet=LETTERS, min_size=1, max_size=40),
    st.sampled_from(["name", "text"]),
    st.text(alphabet=" \t\u3000\u00a0", max_size=3),
    st.text(alphabet=" \t\u3000\u00a0", max_size=3),
)
def test_equivalent_spellings_give_the_same_index(value, kind, before, after):
    expected = blind_index("legal_name", value, kind)
    for variant in (
        value.upper(),
        value.lower(),
        value.swapcase(),
        before + value + after,
        _fullwidth(value),
        " ".join(value.split(" ")).replace(" ", "  "),
    ):
        assert blind_index("legal_name", variant, kind) == expected


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_different_normalised_values_give_different_indexes(first, second):
    if normalise_name(first) and normalise_name(second) and normalise_name(first) != normalise_name(second):
        assert blind_index("legal_name", first, "name") != blind_index("legal_name", second, "name")


@given(st.emails())
def test_email_case_and_spaces_do_not_matter(email):
    assert blind_index("email", f"  {email.upper()} ", "email") == blind_index("email", email, "email")


@given(st.from_regex(r"\A[1-9][0-9]{7,13}\Z"))
def test_phone_spellings_give_the_same_index(digits):
    plus = "+" + digits
    spaced = "00 " + " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))
    dashed = "+" + "-".join(digits[i : i + 2] for i in range(0, len(digits), 2))
    assert blind_index("phone", plus, "phone") == blind_index("phone", spaced, "phone")
    assert blind_index("phone", plus, "phone") == blind_index("phone", dashed, "phone")


# --- the model pattern ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_index_columns_are_filled_on_save_and_found_by_exact_search():
    amina = Secret.objects.create(
        name="Amina Example",
        email="Amina@Example.org",
        phone="+44 20 7946 0000",
        birth_date=datetime.date(1990, 5, 17),
    )
    Secret.objects.create(name="Someone Else", email="else@example.org", phone="+33 1 23 45 67 89")
    Secret.objects.create(name=None)
    assert raw_column("crypto_app_secret", "name_index", amina.pk) == blind_index(
        "name", "amina example", "name"
    )
    assert list(blind_index_filter(Secret.objects.all(), "name", "  AMINA   example", "name")) == [amina]
    assert list(blind_index_filter(Secret.objects.all(), "email", "amina@example.ORG ", "email")) == [amina]
    assert list(blind_index_filter(Secret.objects.all(), "phone", "0044 20 7946-0000", "phone")) == [amina]
    assert list(blind_index_filter(Secret.objects.all(), "name_index", "Amina Example")) == [amina]
    assert list(blind_index_filter(Secret.objects.all(), "name", "Amina", "name")) == []
    assert list(blind_index_filter(Secret.objects.all(), "name", "", "name")) == []
    assert list(blind_index_filter(Secret.objects.all(), "name", None, "name")) == []
    found = blind_index_filter_name_and_birth_date(
        Secret.objects.all(), "amina EXAMPLE", datetime.date(1990, 5, 17)
    )
    assert list(found) == [amina]
    assert not blind_index_filter_name_and_birth_date(
        Secret.objects.all(), "Amina Example", datetime.date(1990, 5, 18)
    ).exists()
    assert not blind_index_filter_name_and_birth_date(Secret.objects.all(), "Amina Example", None).exists()


@pytest.mark.django_db
def test_search_stays_inside_the_given_queryset():
    amina = Secret.objects.create(name="Amina Example", label="visible")
    Secret.objects.create(name="Amina Example", label="hidden")
    visible = Secret.objects.filter(label="visible")
    assert list(blind_index_filter(visible, "name", "Amina Example", "name")) == [amina]


@pytest.mark.django_db
def test_index_follows_changes_and_empties():
    secret = Secret.objects.create(name="Amina Example")
    secret.name = "Amina Changed"
    secret.save()
    assert list(blind_index_filter(Secret.objects.all(), "name", "Amina Changed", "name")) == [secret]
    assert not blind_index_filter(Secret.objects.all(), "name", "Amina Example", "name").exists()
    secret.name = ""
    secret.save()
    assert raw_column("crypto_app_secret", "name_index", secret.pk) is None


@pytest.mark.django_db
def test_saving_a_source_without_its_index_is_refused():
    secret = Secret.objects.create(name="Amina Example")
    secret.name = "Other"
    with pytest.raises(EncryptedFieldError, match="name_index"), transaction.atomic():
        secret.save(update_fields=["name"])
    secret.save(update_fields=["name", "name_index", "name_and_birth_date_index"])
    assert Secret.objects.get(name_index=blind_index("name", "other", "name")) == secret


@pytest.mark.django_db
def test_invalid_phone_is_refused_on_save():
    with pytest.raises(ValueError, match="country code"), transaction.atomic():
        Secret.objects.create(phone="020 7946 0000")
    assert Secret.objects.count() == 0


@pytest.mark.django_db
def test_wrong_kind_or_unknown_field_is_refused():
    with pytest.raises(ValueError):
        blind_index_filter(Secret.objects.all(), "name", "x", "email")
    with pytest.raises(EncryptedFieldError):
        blind_index_filter(Secret.objects.all(), "notes", "x", "text")


def test_blind_index_field_declaration():
    with pytest.raises(ValueError):
        BlindIndexField(source="date_of_birth", kind="date")
    with pytest.raises(ValueError):
        BlindIndexField(source="name", kind="name_and_birth_date")
    field = BlindIndexField(source=("name", "birth_date"), kind="name_and_birth_date")
    _, path, _, kwargs = field.deconstruct()
    assert path == "core.crypto.blind_index.BlindIndexField"
    assert kwargs == {"source": ["name", "birth_date"], "kind": "name_and_birth_date"}
    assert (field.max_length, field.db_index, field.null, field.editable) == (64, True, True, False)
