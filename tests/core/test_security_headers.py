"""Security headers on every page, and CSRF that works under `Referrer-Policy: no-referrer`."""

from __future__ import annotations

import pytest
from django.test import Client

from core.accounts.testing import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_public_page_headers(client):
    response = client.get("/en/accounts/sign-in/")
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "no-store" in response["Cache-Control"]
    assert response["X-Request-ID"]


def test_signed_in_pages_are_never_stored(client):
    user = UserFactory()
    sign_in(client, user)
    response = client.get("/en/")
    assert response.status_code in {200, 302}
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_pages_load_nothing_from_other_hosts(client):
    body = client.get("/en/accounts/sign-in/").content.decode()
    assert "http://" not in body.replace("http://testserver", "") and "https://" not in body
    assert "<script>" not in body  # no inline script: CSP forbids it


def _csrf_client() -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    response = client.get("/en/accounts/sign-in/")
    token = response.context["csrf_token"]
    return client, str(token)


def test_same_origin_post_with_opaque_origin_is_accepted():
    client, token = _csrf_client()
    response = client.post(
        "/i18n/setlang/",
        {"language": "fr", "next": "/en/accounts/sign-in/", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="null",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 302
    assert response["Location"] == "/fr/accounts/sign-in/"


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site", None])
def test_opaque_origin_from_elsewhere_is_refused_with_a_translated_reason(fetch_site):
    client, token = _csrf_client()
    headers = {"HTTP_ORIGIN": "null"}
    if fetch_site:
        headers["HTTP_SEC_FETCH_SITE"] = fetch_site
    response = client.post(
        "/i18n/setlang/", {"language": "fr", "next": "/en/", "csrfmiddlewaretoken": token}, **headers
    )
    assert response.status_code == 403
    assert "This form had expired or was altered" in response.content.decode()


def test_tampered_token_is_refused_even_from_the_same_origin():
    client, token = _csrf_client()
    response = client.post(
        "/i18n/setlang/",
        {"language": "fr", "next": "/en/", "csrfmiddlewaretoken": token[:-4] + "AAAA"},
        HTTP_ORIGIN="null",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 403


def test_unknown_language_prefix_is_not_found(client):
    response = client.get("/xx/accounts/sign-in/")
    assert response.status_code == 404
    assert "This page does not exist, or you may not see it." in response.content.decode()


def test_forwarded_for_is_ignored_without_a_declared_proxy(rf):
    from axes.helpers import get_client_ip_address

    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="198.51.100.7")
    assert get_client_ip_address(request) == "198.51.100.7"
