"""Documents: encrypted at rest, recognised by their bytes, served as neutral attachments, audited; and the
child-exploitation rule (no images, record the report instead)."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import CaseKind, Document, ExploitationReport, RiskLevel
from casework.services import documents as services
from casework.services.cases import case_open
from core.accounts.testing import sign_in
from core.audit.models import AuditEvent
from core.crypto.files import decrypt_bytes, document_hash, encrypt_bytes
from tests.casework.conftest import make_case, make_person

pytestmark = pytest.mark.django_db

ORIGINAL_NAME = "maria-example-passport-scan.pdf"
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
    b"BT (Statement of Maria Example about the blackmail) Tj ET\ntrailer << >>\n%%EOF\n"
)
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 40
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode"
HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
DEFAULT_CACHE_CONTROL = "no-store, no-cache, must-revalidate, max-age=0, private"


@pytest.fixture
def media(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def stored_files(root) -> list:
    return sorted(path for path in root.rglob("*") if path.is_file())


def exploitation_case(world):
    person = make_person(world, is_minor=True)
    return case_open(
        actor=world.caseworker,
        person=person,
        kind=CaseKind.VICTIM_SUPPORT,
        team=world.team,
        categories=["child_exploitation"],
        risk_level=RiskLevel.MEDIUM,
    )


def upload(client, case, content: bytes, name: str = ORIGINAL_NAME, content_type: str = "application/pdf"):
    return client.post(
        reverse("casework:document_upload", args=[case.reference]),
        {"file": SimpleUploadedFile(name, content, content_type=content_type), "kind": "evidence"},
    )


def database_text_containing(needle: str) -> list[str]:
    """Every table whose rows, as text, contain the needle (raw SQL over the whole test database)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT count(*) FROM "{table}" t WHERE t::text ILIKE %s', [f"%{needle}%"])
            if cursor.fetchone()[0]:
                found.append(table)
    return found


# --- Upload and storage -----------------------------------------------------------------------------


def test_upload_through_the_page_is_stored_encrypted_under_a_random_name(world, case, media, signed_in):
    client = signed_in(world.caseworker)
    response = upload(client, case, PDF_BYTES)
    assert response.status_code == 302
    assert response["Location"] == reverse("casework:documents", args=[case.reference])
    document = Document.objects.get(case=case)
    assert document.content_type == "application/pdf"
    assert document.size == len(PDF_BYTES)
    assert document.keyed_hash == document_hash(PDF_BYTES)
    assert document.uploaded_by == world.caseworker
    assert document.original_name == ORIGINAL_NAME  # decrypted through the model

    files = stored_files(media)
    assert len(files) == 1
    stored = files[0].read_bytes()
    assert stored != PDF_BYTES
    assert PDF_BYTES not in stored and b"Maria" not in stored and b"Statement" not in stored
    assert decrypt_bytes(stored) == PDF_BYTES
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    assert files[0].relative_to(media).as_posix() == document.storage_name
    assert "maria" not in document.storage_name.lower() and "passport" not in document.storage_name.lower()
    assert case.reference not in document.storage_name

    # The original name is nowhere in the database in plaintext (nor the contents), audit trail included.
    assert database_text_containing("maria-example-passport") == []
    assert database_text_containing("Statement of Maria") == []
    event = AuditEvent.objects.get(action="document.uploaded")
    assert event.object_id == str(document.pk)
    assert event.actor_id == world.caseworker.pk
    assert event.details == {
        "case": case.pk,
        "kind": "evidence",
        "type": "pdf",
        "size": len(PDF_BYTES),
        "exploitation_case": False,
    }
    assert "passport" not in str(event.fields) + str(event.details)


def test_the_list_shows_the_document_to_the_case_team(world, case, media, signed_in):
    client = signed_in(world.caseworker)
    upload(client, case, PDF_BYTES)
    page = client.get(reverse("casework:documents", args=[case.reference]))
    assert page.status_code == 200
    assert ORIGINAL_NAME in page.content.decode()
    document = Document.objects.get(case=case)
    assert reverse("casework:document_download", args=[case.reference, document.pk]) in page.content.decode()


@pytest.mark.parametrize(
    ("content", "name", "content_type", "message"),
    [
        (EXE_BYTES, "statement.pdf", "application/pdf", "This file is a program, not a document"),
        (HTML_BYTES, "statement.pdf", "application/pdf", "This file is a web page"),
        (b"  \n<html><body>hi</body></html>", "notes.txt", "text/plain", "This file is a web page"),
        (
            b"\x00\x01\x02\x03binary-garbage\xff\xfe",
            "photo.png",
            "image/png",
            "could not recognise this file",
        ),
        (b"GIF89a" + b"\x00" * 20, "image.pdf", "application/pdf", "could not recognise this file"),
        (b"#!/bin/sh\nrm -rf /\n", "script.txt", "text/plain", "This file is a program"),
    ],
)
def test_disguised_files_are_refused_and_nothing_is_stored(
    world, case, media, signed_in, content, name, content_type, message
):
    client = signed_in(world.caseworker)
    response = upload(client, case, content, name=name, content_type=content_type)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Document.objects.exists()
    assert stored_files(media) == []
    refusal = AuditEvent.objects.get(action="document.upload_refused")
    assert refusal.outcome == "refused"
    assert name not in str(refusal.details)


def test_a_real_pdf_named_like_an_image_is_kept_as_a_pdf(world, case, media, signed_in):
    client = signed_in(world.caseworker)
    assert upload(client, case, PDF_BYTES, name="scan.png", content_type="image/png").status_code == 302
    assert Document.objects.get().content_type == "application/pdf"


def test_oversize_upload_is_refused_with_the_limit_and_nothing_is_stored(
    world, case, media, settings, signed_in
):
    settings.HAVEN_DOCUMENT_MAX_BYTES = 100
    client = signed_in(world.caseworker)
    response = upload(client, case, b"a" * 101, name="notes.txt", content_type="text/plain")
    assert response.status_code == 200
    assert "The file is larger than the limit of 100\xa0bytes." in response.content.decode()
    assert not Document.objects.exists()
    assert stored_files(media) == []
    # Exactly at the limit is accepted.
    assert upload(client, case, b"a" * 100, name="notes.txt", content_type="text/plain").status_code == 302
    assert Document.objects.get().content_type == "text/plain"


def test_the_service_refuses_oversize_too(world, case, media, settings):
    settings.HAVEN_DOCUMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError) as raised:
        services.document_upload(
            actor=world.caseworker, case=case, data=b"a" * 11, original_name="a.txt", kind="evidence"
        )
    assert raised.value.message_dict["file"] == [
        "The file is larger than the limit of 10\xa0bytes. Upload a smaller file."
    ]
    assert stored_files(media) == []


def test_docx_and_odt_are_recognised_by_their_contents(world, case, media):
    import io
    import zipfile

    def archive(entries: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zipped:
            for name, data in entries.items():
                zipped.writestr(name, data)
        return buffer.getvalue()

    docx = archive({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    odt = archive({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"})
    macro = archive(
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>", "word/vbaProject.bin": b"x"}
    )
    assert services.file_type_detect(docx) == services.DOCX
    assert services.file_type_detect(odt) == services.ODT
    with pytest.raises(ValidationError):
        services.file_type_detect(macro)
    with pytest.raises(ValidationError):
        services.file_type_detect(archive({"evil.exe": b"MZ"}))


# --- Download ------------------------------------------------------------------------------------------


def test_download_headers_are_exact_and_the_download_is_audited(world, case, media, signed_in):
    client = signed_in(world.caseworker)
    upload(client, case, PDF_BYTES)
    document = Document.objects.get()
    response = client.get(reverse("casework:document_download", args=[case.reference, document.pk]))
    assert response.status_code == 200
    assert response.content == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{case.reference}-document-{document.pk}.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cache-Control"] == DEFAULT_CACHE_CONTROL  # no-store, made stricter by NoStoreMiddleware
    assert response["Content-Length"] == str(len(PDF_BYTES))
    for header, value in response.items():
        assert "maria" not in value.lower() and "passport" not in value.lower(), header
    event = AuditEvent.objects.get(action="document.downloaded")
    assert (event.actor_id, event.object_id, event.details) == (
        world.caseworker.pk,
        str(document.pk),
        {"case": case.pk},
    )
    assert database_text_containing("maria-example-passport") == []


def test_text_download_is_plain_text_attachment(world, case, media, signed_in):
    client = signed_in(world.caseworker)
    upload(client, case, "Notes de l'entretien, ça va\n".encode(), name="notes.txt", content_type="text/html")
    document = Document.objects.get()
    response = client.get(reverse("casework:document_download", args=[case.reference, document.pk]))
    assert response["Content-Type"] == "text/plain"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="{case.reference}-document-{document.pk}.txt"'
    )


@pytest.mark.parametrize("tamper", ["other_file", "garbage", "missing"])
def test_a_tampered_file_is_refused_and_audited(world, case, media, signed_in, tamper):
    client = signed_in(world.caseworker)
    upload(client, case, PDF_BYTES)
    document = Document.objects.get()
    path = media / document.storage_name
    if tamper == "other_file":
        path.write_bytes(encrypt_bytes(PDF_BYTES.replace(b"blackmail", b"nothing!!")))
    elif tamper == "garbage":
        path.write_bytes(b"gAAAAA-not-a-token")
    else:
        path.unlink()
    response = client.get(reverse("casework:document_download", args=[case.reference, document.pk]))
    assert response.status_code == 409
    assert b"%PDF" not in response.content
    assert "failed its integrity check" in response.content.decode()
    assert not AuditEvent.objects.filter(action="document.downloaded").exists()
    event = AuditEvent.objects.get(action="document.integrity_failed")
    assert event.outcome == "failure"
    assert event.details == {
        "case": case.pk,
        "problem": {"other_file": "hash_mismatch", "garbage": "undecryptable", "missing": "missing"}[tamper],
    }


def test_another_cases_document_id_answers_404(world, case, media, signed_in):
    other = make_case(world)
    client = signed_in(world.caseworker)
    upload(client, other, PDF_BYTES)
    document = Document.objects.get()
    response = client.get(reverse("casework:document_download", args=[case.reference, document.pk]))
    assert response.status_code == 404
    assert response.content.count(b"%PDF") == 0
    assert not AuditEvent.objects.filter(action="document.downloaded").exists()


# --- Who may do what ----------------------------------------------------------------------------------

REFUSED = ["outsider", "outsider_supervisor", "colleague", "counsellor", "other_team_caseworker", "auditor"]


@pytest.mark.parametrize("who", [*REFUSED, "anonymous", "caseworker", "supervisor"])
def test_permission_matrix(world, case, media, who):
    owner = Client()
    sign_in(owner, world.caseworker)
    upload(owner, case, PDF_BYTES)
    document = Document.objects.get()
    audit_count = AuditEvent.objects.count()
    client = Client()
    if who != "anonymous":
        sign_in(client, getattr(world, who))
    urls = {
        "list": reverse("casework:documents", args=[case.reference]),
        "download": reverse("casework:document_download", args=[case.reference, document.pk]),
    }
    upload_response = upload(client, case, b"plain text evidence\n", name="x.txt", content_type="text/plain")
    destroy_response = client.post(
        reverse("casework:document_destroy", args=[case.reference, document.pk]), {"reason": "duplicate"}
    )
    responses = {name: client.get(url) for name, url in urls.items()}
    if who == "anonymous":
        for response in [upload_response, destroy_response, *responses.values()]:
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("accounts:login"))
    elif who in REFUSED:
        for response in [upload_response, destroy_response, *responses.values()]:
            assert response.status_code == 404
    else:
        assert responses["list"].status_code == 200
        assert responses["download"].status_code == 404  # destroyed just before by the allowed user
        assert upload_response.status_code == 302
        assert destroy_response.status_code == 302
        return
    # Nothing changed, nothing downloaded, nothing audited on a refusal.
    assert Document.objects.count() == 1
    assert Document.objects.get().destroyed_at is None
    assert len(stored_files(media)) == 1
    assert AuditEvent.objects.count() == audit_count


@pytest.mark.parametrize("who", ["caseworker", "supervisor"])
def test_case_team_downloads(world, case, media, who, signed_in):
    owner = Client()
    sign_in(owner, world.caseworker)
    upload(owner, case, PDF_BYTES)
    document = Document.objects.get()
    client = signed_in(getattr(world, who))
    response = client.get(reverse("casework:document_download", args=[case.reference, document.pk]))
    assert response.status_code == 200
    assert response.content == PDF_BYTES


def test_services_check_permissions_themselves(world, case, media):
    with pytest.raises(PermissionDenied):
        services.document_upload(
            actor=world.colleague, case=case, data=PDF_BYTES, original_name="a.pdf", kind="evidence"
        )
    with pytest.raises(PermissionDenied):
        services.document_upload(
            actor=world.counsellor, case=case, data=PDF_BYTES, original_name="a.pdf", kind="evidence"
        )
    document = services.document_upload(
        actor=world.caseworker, case=case, data=PDF_BYTES, original_name="a.pdf", kind="evidence"
    )
    with pytest.raises(PermissionDenied):
        services.document_download(actor=world.counsellor, case=case, document=document)
    with pytest.raises(PermissionDenied):
        services.document_destroy(actor=world.outsider, case=case, document=document, reason="duplicate")
    assert stored_files(media) != []
    assert not AuditEvent.objects.filter(action__in=["document.downloaded", "document.destroyed"]).exists()


# --- Destroying -----------------------------------------------------------------------------------------


def test_destroying_deletes_the_bytes_and_keeps_the_row(world, case, media, signed_in):
    client = signed_in(world.caseworker)
    upload(client, case, PDF_BYTES)
    document = Document.objects.get()
    destroy_url = reverse("casework:document_destroy", args=[case.reference, document.pk])
    response = client.post(destroy_url, {"reason": "not-a-reason"})
    assert response.status_code == 302
    assert Document.objects.get().destroyed_at is None and len(stored_files(media)) == 1

    response = client.post(destroy_url, {"reason": "uploaded_in_error"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.destroyed_at is not None
    assert document.original_name == ""
    assert stored_files(media) == []
    event = AuditEvent.objects.get(action="document.destroyed")
    assert event.details == {"case": case.pk, "reason": "uploaded_in_error"}
    download = client.get(reverse("casework:document_download", args=[case.reference, document.pk]))
    assert download.status_code == 404
    # Twice is harmless.
    client.post(destroy_url, {"reason": "uploaded_in_error"})
    assert AuditEvent.objects.filter(action="document.destroyed").count() == 1


# --- Child exploitation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (PNG_BYTES, "photo.png", "image/png"),
        (JPEG_BYTES, "statement.pdf", "application/pdf"),  # disguised image
        (JPEG_BYTES, "notes.txt", "text/plain"),
        (b"GIF89a" + b"\x00" * 20, "file.bin", "application/octet-stream"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "a.doc", "application/msword"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20, "a.pdf", "application/pdf"),
        (b"plain words only", "picture.jpg", "image/jpeg"),  # claims to be an image
        (b"%PDF-1.4\n<< /Subtype /Image /Filter /DCTDecode >>\n%%EOF", "scan.pdf", "application/pdf"),
    ],
)
def test_images_are_refused_in_exploitation_cases(world, media, signed_in, content, name, content_type):
    case = exploitation_case(world)
    client = signed_in(world.caseworker)
    response = upload(client, case, content, name=name, content_type=content_type)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Images are never uploaded in a case of online child sexual exploitation" in text
    assert "Record instead the web addresses" in text
    assert not Document.objects.exists()
    assert stored_files(media) == []
    assert AuditEvent.objects.get(action="document.upload_refused").details["code"] == "exploitation_image"


def test_exploitation_case_still_takes_a_letter(world, media, signed_in):
    case = exploitation_case(world)
    client = signed_in(world.caseworker)
    assert upload(client, case, PDF_BYTES).status_code == 302
    assert Document.objects.get().case == case


def test_images_are_accepted_in_other_cases(world, case, media, signed_in):
    client = signed_in(world.caseworker)
    assert upload(client, case, PNG_BYTES, name="screenshot.png", content_type="image/png").status_code == 302
    assert Document.objects.get().content_type == "image/png"


def test_exploitation_report_is_recorded_encrypted_and_audited(world, media, signed_in):
    case = exploitation_case(world)
    client = signed_in(world.caseworker)
    page = client.get(reverse("casework:documents", args=[case.reference]))
    assert reverse("casework:exploitation_report_add", args=[case.reference]) in page.content.decode()
    today = timezone.localdate()
    response = client.post(
        reverse("casework:exploitation_report_add", args=[case.reference]),
        {
            "urls": "https://bad.example.net/abc-unique-path\nhttp://other.example.org/x",
            "hashes": "md5:d41d8cd98f00b204e9800998ecf8427e",
            "reported_to": "hotline",
            "report_reference": "HOTLINE-REF-778899",
            "reported_on": today.isoformat(),
        },
    )
    assert response.status_code == 302
    report = ExploitationReport.objects.get(case=case)
    assert report.urls == "https://bad.example.net/abc-unique-path\nhttp://other.example.org/x"
    assert report.report_reference == "HOTLINE-REF-778899"
    assert report.reported_on == today and report.recorded_by == world.caseworker
    assert database_text_containing("abc-unique-path") == []
    assert database_text_containing("HOTLINE-REF-778899") == []
    event = AuditEvent.objects.get(action="exploitation_report.recorded")
    assert event.details == {"case": case.pk, "reported_to": "hotline", "urls": 2}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"reported_on": (timezone.localdate() + dt.timedelta(days=1)).isoformat()}, "reported_on",
         "The date of the report cannot be in the future."),
        ({"urls": "not a url"}, "urls", "Line 1 is not a web address"),
        ({"urls": "javascript:alert(1)"}, "urls", "Line 1 is not a web address"),
        ({"hashes": "a description of the picture!"}, "hashes", "Line 1 does not look like an image hash."),
    ],
)  # fmt: skip
def test_exploitation_report_bad_input_is_refused(world, media, signed_in, change, field, message):
    case = exploitation_case(world)
    client = signed_in(world.caseworker)
    data = {
        "urls": "https://bad.example.net/a",
        "hashes": "",
        "reported_to": "police",
        "report_reference": "",
        "reported_on": timezone.localdate().isoformat(),
        **change,
    }
    response = client.post(reverse("casework:exploitation_report_add", args=[case.reference]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ExploitationReport.objects.exists()


def test_exploitation_reports_belong_to_exploitation_cases(world, case, media):
    with pytest.raises(ValidationError):
        services.exploitation_report_add(
            actor=world.caseworker,
            case=case,
            urls="https://a.example/",
            hashes="",
            reported_to="police",
            report_reference="",
            reported_on=timezone.localdate(),
        )
    with pytest.raises(PermissionDenied):
        services.exploitation_report_add(
            actor=world.colleague,
            case=exploitation_case(world),
            urls="https://a.example/",
            hashes="",
            reported_to="police",
            report_reference="",
            reported_on=timezone.localdate(),
        )
    assert not ExploitationReport.objects.exists()
