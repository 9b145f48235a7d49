"""Reads of documents and child-exploitation reports, for a case the caller already authorised."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from casework.models import Case, Document, ExploitationReport
from core.crypto.exceptions import DecryptionError
from core.crypto.fields import defer_encrypted


@dataclass(frozen=True)
class DocumentRow:
    document: Document
    display_name: str  # the original name, "" when destroyed, or a placeholder when unreadable
    is_unreadable: bool


def _name(document: Document) -> tuple[str, bool]:
    try:
        return document.original_name or "", False
    except DecryptionError:
        return "", True


def document_list_for_case(*, case: Case) -> list[DocumentRow]:
    """The case's documents, newest first; one unreadable name never breaks the list."""
    documents = defer_encrypted(
        Document.objects.filter(case=case).select_related("uploaded_by").order_by("-uploaded_at", "-pk")
    )
    rows = []
    for document in documents:
        name, unreadable = ("", False) if document.destroyed_at else _name(document)
        rows.append(DocumentRow(document=document, display_name=name, is_unreadable=unreadable))
    return rows


def document_get_for_case(*, case: Case, document_id: int) -> Document:
    """A document of this case by id, or 404 (another case's id answers exactly like a missing one)."""
    document = defer_encrypted(Document.objects.filter(case=case, pk=document_id)).first()
    if document is None:
        raise Http404
    return document


def exploitation_report_list_for_case(*, case: Case) -> list[ExploitationReport]:
    """The case's child-exploitation reports, newest first (URLs and references stay deferred)."""
    return list(defer_encrypted(ExploitationReport.objects.filter(case=case)).order_by("-reported_on", "-pk"))
