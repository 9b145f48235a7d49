"""Documents and child-exploitation reports (SPEC.md §2 casework/ "Documents").

A document's type is decided by its bytes (magic numbers), never by its name or the browser's content type;
only PDF, PNG, JPEG, plain text, DOCX and ODT are kept. The bytes are encrypted (core.crypto.files) and
written through Django's default storage under a random name; the original name is an encrypted field and
never reaches a storage name, a header or the audit trail. Every download re-checks the keyed hash.

In a case of online child sexual exploitation no image is ever uploaded, whatever it is called: the
caseworker records URLs, hashes and the report to a hotline or the police instead (ExploitationReport).
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.access import CHANGE, REFUSALS, VIEW, case_perms
from casework.models import Case, Category, Document, ExploitationReport
from core.accounts.models import User
from core.audit.actions import register_action_labels
from core.audit.services import audit_event_create
from core.crypto.exceptions import DecryptionError
from core.crypto.files import decrypt_bytes, document_hash, document_hash_matches, encrypt_bytes

register_action_labels(
    {
        "document.uploaded": gettext_lazy("Document uploaded"),
        "document.upload_refused": gettext_lazy("Document upload refused"),
        "document.downloaded": gettext_lazy("Document downloaded"),
        "document.integrity_failed": gettext_lazy("Document failed its integrity check"),
        "document.destroyed": gettext_lazy("Document destroyed"),
        "exploitation_report.recorded": gettext_lazy("Child exploitation report recorded"),
    }
)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
STORAGE_PREFIX = "documents/"


class DestroyReason:
    """Coded reasons for destroying a document (kept in the audit trail)."""

    UPLOADED_IN_ERROR = "uploaded_in_error"
    DUPLICATE = "duplicate"
    CLIENT_REQUEST = "client_request"
    NO_LONGER_NEEDED = "no_longer_needed"

    CHOICES = (
        (UPLOADED_IN_ERROR, gettext_lazy("Uploaded in error")),
        (DUPLICATE, gettext_lazy("A duplicate of another document")),
        (CLIENT_REQUEST, gettext_lazy("The client asked for it to be destroyed")),
        (NO_LONGER_NEEDED, gettext_lazy("No longer needed for the support")),
    )


class DocumentIntegrityError(Exception):
    """The stored bytes are missing, unreadable or not the ones uploaded: the document is not served."""


@dataclass(frozen=True)
class FileType:
    code: str
    content_type: str
    extension: str


PDF = FileType("pdf", "application/pdf", "pdf")
PNG = FileType("png", "image/png", "png")
JPEG = FileType("jpeg", "image/jpeg", "jpg")
TEXT = FileType("text", "text/plain", "txt")
DOCX = FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
ODT = FileType("odt", "application/vnd.oasis.opendocument.text", "odt")
ALLOWED_TYPES: tuple[FileType, ...] = (PDF, PNG, JPEG, TEXT, DOCX, ODT)
EXTENSION_BY_CONTENT_TYPE = {file_type.content_type: file_type.extension for file_type in ALLOWED_TYPES}

EXECUTABLE_SIGNATURES = (
    b"MZ",  # Windows PE / DOS
    b"\x7fELF",
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"#!",
    b"\x00asm",
)
# Any picture or moving picture, for the child-exploitation rule (a wider net than the allowed types).
IMAGE_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x01\x00",  # ICO
    b"8BPS",  # Photoshop
    b"\x00\x00\x00\x0cjP  ",  # JPEG 2000
    b"\xff\x4f\xff\x51",
    b"\x1aE\xdf\xa3",  # Matroska / WebM video
    b"FLIF",
    b"qoif",
    b"\x76\x2f\x31\x01",  # OpenEXR
)
IMAGE_EXTENSIONS = frozenset(
    {
        "png", "jpg", "jpeg", "jpe", "jfif", "gif", "bmp", "tif", "tiff", "webp", "heic", "heif", "avif",
        "svg", "svgz", "ico", "psd", "raw", "cr2", "nef", "arw", "dng", "jp2", "jxl", "mp4", "mov", "avi",
        "mkv", "webm", "m4v", "3gp", "wmv", "mpg", "mpeg",
    }
)  # fmt: skip
HTML_MARKERS = (
    b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<svg", b"<?xml", b"<object",
    b"<embed", b"<meta", b"<style", b"<link", b"<img", b"<a ", b"<form", b"<title",
)  # fmt: skip
ACCEPTED_LIST = gettext_lazy("PDF, PNG, JPEG, plain text, Word (DOCX) or OpenDocument text (ODT)")


def document_max_bytes() -> int:
    """The upload limit, read at every call (HAVEN_DOCUMENT_MAX_BYTES, default 10 MB)."""
    value = getattr(settings, "HAVEN_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES)
    return int(value)


# --- Recognising a file by its bytes ------------------------------------------------------------------


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n\f").lower()
    if text.startswith(b"<"):
        return True
    return any(marker in text for marker in HTML_MARKERS[:7])


def _zip_type(data: bytes) -> FileType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > 5000:
                return None
            names = {info.filename for info in infos}
            if any(name.lower().endswith((".bin", ".exe", ".js", ".dll")) for name in names):
                return None  # macros (vbaProject.bin) or programs inside: refused
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100 and archive.read("mimetype").strip() == ODT.content_type.encode():
                    return ODT
                return None
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return DOCX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, RuntimeError, ValueError):
        return None
    return None


def _is_plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(char in "\t\n\r\f" or unicodedata.category(char) != "Cc" for char in text)


def _is_iso_media(data: bytes) -> bool:
    """ISO base media (HEIC, AVIF, MP4, MOV...): a `ftyp` box at offset 4."""
    return len(data) >= 12 and data[4:8] == b"ftyp"


def looks_like_image(data: bytes, *, original_name: str = "", declared_type: str = "") -> bool:
    """Tell whether a file is, or claims to be, a picture or a video (any format, disguised or not)."""
    head = data[:64]
    if any(head.startswith(signature) for signature in IMAGE_SIGNATURES):
        return True
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"AVI ", b"ANI "):
        return True
    if _is_iso_media(data):
        return True
    lowered = data[:4096].lower()
    if b"<svg" in lowered:
        return True
    extension = original_name.rsplit(".", 1)[-1].lower() if "." in original_name else ""
    declared = (declared_type or "").lower()
    return extension in IMAGE_EXTENSIONS or declared.startswith(("image/", "video/"))


def _embeds_images(data: bytes, file_type: FileType) -> bool:
    """A document carrying pictures (PDF image objects, DOCX/ODT media): refused in exploitation cases."""
    if file_type == PDF:
        return b"/Image" in data or b"/DCTDecode" in data or b"/JPXDecode" in data
    if file_type in (DOCX, ODT):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return any(
                    name.startswith(("word/media/", "Pictures/", "media/")) for name in archive.namelist()
                )
        except (zipfile.BadZipFile, OSError, ValueError):
            return True
    return False


def file_type_detect(data: bytes) -> FileType:
    """Return the allowed type of these bytes, or raise ValidationError saying why they are refused."""
    head = data[:8192]
    if any(head.startswith(signature) for signature in EXECUTABLE_SIGNATURES):
        raise ValidationError(
            _(
                "This file is a program, not a document, whatever its name says. Haven accepts %(types)s "
                "files."
            )
            % {"types": ACCEPTED_LIST},
            code="executable",
        )
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        zip_type = _zip_type(data)
        if zip_type is not None:
            return zip_type
    elif _looks_like_html(head):
        raise ValidationError(
            _(
                "This file is a web page (HTML or similar markup), whatever its name says. Web pages are "
                "not kept because they can run code. Save it as a PDF and upload that instead."
            ),
            code="html",
        )
    elif _is_plain_text(data):
        return TEXT
    raise ValidationError(
        _(
            "Haven could not recognise this file as a %(types)s document, whatever its name says. Save it "
            "in one of these formats and upload it again."
        )
        % {"types": ACCEPTED_LIST},
        code="not_allowed",
    )


def is_exploitation_case(case: Case) -> bool:
    return Category.CHILD_EXPLOITATION in (case.categories or [])


def exploitation_image_message() -> str:
    return _(
        "Images are never uploaded in a case of online child sexual exploitation, whatever the file is "
        "called. Do not copy or keep the image. Record instead the web addresses where it appears, its "
        "hashes if a hotline or the police gave them, and the report made to a hotline or the police."
    )


def document_check(*, case: Case, data: bytes, original_name: str = "", declared_type: str = "") -> FileType:
    """Validate an upload's bytes for this case; return its type or raise ValidationError (code set)."""
    limit = document_max_bytes()
    if len(data) > limit:
        raise ValidationError(
            _("The file is larger than the limit of %(limit)s. Upload a smaller file.")
            % {"limit": filesizeformat(limit)},
            code="too_large",
        )
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    exploitation = is_exploitation_case(case)
    if exploitation and looks_like_image(data, original_name=original_name, declared_type=declared_type):
        raise ValidationError(exploitation_image_message(), code="exploitation_image")
    file_type = file_type_detect(data)
    if exploitation and (file_type in (PNG, JPEG) or _embeds_images(data, file_type)):
        raise ValidationError(exploitation_image_message(), code="exploitation_image")
    return file_type


def clean_original_name(name: str) -> str:
    """Keep the last path part of the name, without control characters, at most 255 characters."""
    name = re.split(r"[\\/]", str(name or ""))[-1]
    name = "".join(char for char in name if unicodedata.category(char) not in ("Cc", "Cf")).strip()
    return name[:255] or "document"


# --- Services -----------------------------------------------------------------------------------------


def _require(actor: User, case: Case, perm: str) -> frozenset[str]:
    held = case_perms(user=actor, case=case)
    if perm not in held:
        raise PermissionDenied(REFUSALS[perm])
    return held


def _storage():  # type: ignore[no-untyped-def]
    from django.core.files.storage import default_storage

    return default_storage


def _storage_name_new() -> str:
    return f"{STORAGE_PREFIX}{secrets.token_hex(20)}"


def document_upload(
    *,
    actor: User,
    case: Case,
    data: bytes,
    original_name: str,
    kind: str,
    declared_type: str = "",
) -> Document:
    """Check, encrypt and store an upload; record it (original name encrypted) and audit it."""
    _require(actor, case, CHANGE)
    if case.anonymised_at is not None:
        raise ValidationError(_("This case was anonymised: nothing can be added to it."))
    if kind not in Document.Kind.values:
        raise ValidationError({"kind": _("Choose what kind of document this is.")})
    try:
        file_type = document_check(
            case=case, data=data, original_name=original_name, declared_type=declared_type
        )
    except ValidationError as error:
        with transaction.atomic():
            audit_event_create(
                action="document.upload_refused",
                actor=actor,
                organisation=case.organisation,
                target=case,
                outcome="refused",
                details={"code": error.code or "invalid", "size": len(data)},
            )
        raise ValidationError({"file": error}) from None
    storage = _storage()
    stored_name = storage.save(_storage_name_new(), ContentFile(encrypt_bytes(data)))
    saved = False
    try:
        with transaction.atomic():
            document = Document(
                case=case,
                kind=kind,
                storage_name=stored_name,
                original_name=clean_original_name(original_name),
                content_type=file_type.content_type,
                size=len(data),
                keyed_hash=document_hash(data),
                uploaded_by=actor,
            )
            document.save()
            audit_event_create(
                action="document.uploaded",
                actor=actor,
                organisation=case.organisation,
                target=document,
                fields=["original_name", "storage_name"],
                details={
                    "case": case.pk,
                    "kind": kind,
                    "type": file_type.code,
                    "size": len(data),
                    "exploitation_case": is_exploitation_case(case),
                },
            )
        saved = True
    finally:
        if not saved:
            storage.delete(stored_name)
    return document


@dataclass(frozen=True)
class DocumentContent:
    data: bytes
    filename: str
    content_type: str


def document_download_name(*, case: Case, document: Document) -> str:
    """A neutral file name: the case reference and the document id, never the original name."""
    extension = EXTENSION_BY_CONTENT_TYPE.get(document.content_type, "bin")
    return f"{case.reference}-document-{document.pk}.{extension}"


def document_download(*, actor: User, case: Case, document: Document) -> DocumentContent:
    """Decrypt a document for a user who may see the case, check its keyed hash, audit the download.

    A missing, undecryptable or altered file is refused (DocumentIntegrityError) and the refusal audited.
    """
    _require(actor, case, VIEW)
    if document.case_id != case.pk or document.destroyed_at is not None:
        raise ValidationError(_("This document is no longer available."))
    problem = ""
    data = b""
    storage = _storage()
    try:
        with storage.open(document.storage_name, "rb") as stored:
            token = stored.read()
    except (FileNotFoundError, OSError):
        problem = "missing"
    else:
        try:
            data = decrypt_bytes(token, label="casework.Document")
        except DecryptionError:
            problem = "undecryptable"
        else:
            if not document_hash_matches(data, document.keyed_hash) or len(data) != document.size:
                problem = "hash_mismatch"
    with transaction.atomic():
        audit_event_create(
            action="document.integrity_failed" if problem else "document.downloaded",
            actor=actor,
            organisation=case.organisation,
            target=document,
            outcome="failure" if problem else "success",
            details={"case": case.pk, "problem": problem} if problem else {"case": case.pk},
        )
    if problem:
        raise DocumentIntegrityError(problem)
    return DocumentContent(
        data=data,
        filename=document_download_name(case=case, document=document),
        content_type=document.content_type,
    )


def document_bytes_destroy(*, document: Document, now: datetime) -> bool:
    """Delete a document's stored bytes and its original name, keeping the row (for retention and erasure,
    which audit the whole anonymisation). Return whether anything was destroyed. Call inside a transaction.
    """
    if document.destroyed_at is not None:
        return False
    _storage().delete(document.storage_name)
    document.destroyed_at = now
    document.original_name = ""  # type: ignore[assignment]
    document.save(update_fields=["destroyed_at", "original_name"])
    return True


@transaction.atomic
def document_destroy(
    *, actor: User, case: Case, document: Document, reason: str, now: datetime | None = None
) -> Document:
    """Delete a document's stored bytes and keep its row with destroyed_at; audited with a reason code.

    Needs change_case and a reason from DestroyReason.CHOICES. Destroying twice changes nothing.
    """
    _require(actor, case, CHANGE)
    if reason not in dict(DestroyReason.CHOICES):
        raise ValidationError({"reason": _("Choose why the document is destroyed.")})
    document = Document.objects.select_for_update().get(pk=document.pk, case=case)
    if not document_bytes_destroy(document=document, now=now or timezone.now()):
        return document
    audit_event_create(
        action="document.destroyed",
        actor=actor,
        organisation=case.organisation,
        target=document,
        fields=["destroyed_at", "original_name"],
        details={"case": case.pk, "reason": reason},
    )
    return document


# --- Child-exploitation reports ------------------------------------------------------------------------

HASH_LINE = re.compile(r"^[A-Za-z0-9_.+/=:\- ]{1,300}$")


def exploitation_urls_clean(value: str) -> str:
    """One URL per line, each a valid http(s) address; at least one."""
    lines = [line.strip() for line in str(value or "").splitlines() if line.strip()]
    if not lines:
        raise ValidationError({"urls": _("Enter at least one web address.")})
    validator = URLValidator(schemes=["http", "https"])
    for number, line in enumerate(lines, start=1):
        try:
            validator(line)
        except ValidationError:
            message = _("Line %(number)s is not a web address (http:// or https://).") % {"number": number}
            raise ValidationError({"urls": message}) from None
    return "\n".join(lines)


def exploitation_hashes_clean(value: str) -> str:
    """One hash per line (hex, base64 or "algorithm:value"); no free text."""
    lines = [line.strip() for line in str(value or "").splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        if not HASH_LINE.match(line):
            raise ValidationError(
                {"hashes": _("Line %(number)s does not look like an image hash.") % {"number": number}}
            )
    return "\n".join(lines)


@transaction.atomic
def exploitation_report_add(
    *,
    actor: User,
    case: Case,
    urls: str,
    hashes: str,
    reported_to: str,
    report_reference: str,
    reported_on: date,
    now: datetime | None = None,
) -> ExploitationReport:
    """Record where the material is, its hashes and the report made, in an exploitation case. Audited."""
    _require(actor, case, CHANGE)
    if not is_exploitation_case(case):
        raise ValidationError(_("Reports of child sexual exploitation belong to cases of that category."))
    if case.anonymised_at is not None:
        raise ValidationError(_("This case was anonymised: nothing can be added to it."))
    errors: dict[str, list] = {}
    try:
        urls = exploitation_urls_clean(urls)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        hashes = exploitation_hashes_clean(hashes)
    except ValidationError as error:
        errors.update(error.message_dict)
    if reported_to not in ExploitationReport.ReportedTo.values:
        errors["reported_to"] = [_("Choose who the material was reported to.")]
    today = timezone.localdate(now or timezone.now())
    if not isinstance(reported_on, date):
        errors["reported_on"] = [_("Enter the date of the report.")]
    elif reported_on > today:
        errors["reported_on"] = [_("The date of the report cannot be in the future.")]
    report_reference = str(report_reference or "").strip()
    if len(report_reference) > 200:
        errors["report_reference"] = [_("The reference is longer than 200 characters.")]
    if errors:
        raise ValidationError(errors)
    report = ExploitationReport.objects.create(
        case=case,
        urls=urls,
        hashes=hashes,
        reported_to=reported_to,
        report_reference=report_reference,
        reported_on=reported_on,
        recorded_by=actor,
    )
    audit_event_create(
        action="exploitation_report.recorded",
        actor=actor,
        organisation=case.organisation,
        target=report,
        fields=["urls", "hashes", "reported_to", "report_reference", "reported_on"],
        details={"case": case.pk, "reported_to": reported_to, "urls": urls.count("\n") + 1},
    )
    return report
