"""Logs and error reports carry neither identity nor ciphertext."""

from __future__ import annotations

import logging
import sys

import pytest
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from core.crypto.fields import encrypt_value
from core.logging import HavenExceptionReporterFilter, ScrubIdentityFilter

VICTIM = "Amina Victim-Example"


def make_record(msg: str, args: tuple = (), exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("haven.test", logging.WARNING, __file__, 1, msg, args, exc_info)


@pytest.fixture
def scrubbed_caplog(caplog):
    scrub = ScrubIdentityFilter()
    caplog.handler.addFilter(scrub)
    yield caplog
    caplog.handler.removeFilter(scrub)


def test_a_token_in_the_arguments_withholds_the_line(scrubbed_caplog):
    token = encrypt_value(VICTIM)
    logging.getLogger("haven.test").warning("stored value %s for row %s", token, 12)
    assert scrubbed_caplog.messages == [
        "[log line withheld: it held a value that looks like ciphertext] logger=haven.test"
    ]
    assert token not in scrubbed_caplog.text


def test_a_token_in_the_message_or_as_bytes_withholds_the_line():
    token = encrypt_value(VICTIM)
    for record in (make_record("value=" + token), make_record("value=%r", (token.encode(),))):
        assert ScrubIdentityFilter().filter(record) is True
        assert "gAAAAA" not in record.getMessage()
        assert record.args == ("haven.test",)


def test_an_identity_field_name_withholds_the_line(scrubbed_caplog):
    logging.getLogger("haven.test").warning("legal_name changed to %s", VICTIM)
    logging.getLogger("haven.test").warning("%s", {"date_of_birth": "1990-05-17"})
    assert (
        scrubbed_caplog.messages == ["[log line withheld: it named an identity field] logger=haven.test"] * 2
    )
    assert VICTIM not in scrubbed_caplog.text
    assert "1990" not in scrubbed_caplog.text


def test_harmless_lines_pass_unchanged(scrubbed_caplog):
    logging.getLogger("haven.test").warning("case %s moved to %s", "HV-2026-000123", "active")
    assert scrubbed_caplog.messages == ["case HV-2026-000123 moved to active"]


def test_an_exception_that_would_leak_keeps_its_traceback_but_not_its_message(scrubbed_caplog):
    token = encrypt_value(VICTIM)

    def fail() -> None:
        raise ValueError(f"could not parse {token}")

    try:
        fail()
    except ValueError:
        logging.getLogger("haven.test").exception("import failed for row %s", 7)
    text = scrubbed_caplog.text
    assert token not in text
    assert "import failed for row 7" in text
    assert "in fail" in text
    assert "builtins.ValueError: [message withheld]" in text


def test_an_exception_without_identity_is_logged_in_full(scrubbed_caplog):
    try:
        raise KeyError("missing-setting")
    except KeyError:
        logging.getLogger("haven.test").exception("boom")
    assert "missing-setting" in scrubbed_caplog.text


def test_error_reports_hide_post_data_query_string_and_locals():
    phone = "+44" + "".join(reversed("0000649702"))  # built at run time: the report quotes source lines
    request = RequestFactory().post("/en/intake/?q=" + "Amina", data={"legal_name": VICTIM, "phone": phone})
    reporter_filter = HavenExceptionReporterFilter()
    assert reporter_filter.get_post_parameters(request) == {
        "legal_name": "********************",
        "phone": "********************",
    }
    assert reporter_filter.get_safe_request_meta(request)["QUERY_STRING"] == "********************"

    def view(secret_value: str) -> None:
        raise RuntimeError("view failed")

    try:
        view(VICTIM)
    except RuntimeError:
        report = ExceptionReporter(request, *sys.exc_info())
        report.filter = reporter_filter
        text = report.get_traceback_text()
        html = report.get_traceback_html()
    assert "view failed" in text
    for output in (text, html):
        assert VICTIM not in output
        assert phone not in output
