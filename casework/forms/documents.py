"""Forms of documents and child-exploitation reports. The bytes are judged by the service, not here."""

from __future__ import annotations

import io

from django import forms
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.models import Document, ExploitationReport
from casework.services.documents import DestroyReason, document_max_bytes


class BoundedMemoryUploadHandler(FileUploadHandler):
    """Keep an upload in memory up to the limit, so its plaintext never lands in a temporary file.

    Past the limit the bytes are dropped but still counted: the form says how large the file was and
    nothing of it is kept anywhere.
    """

    def __init__(self, request=None, *, max_bytes: int) -> None:  # type: ignore[no-untyped-def]
        super().__init__(request)
        self.max_bytes = max_bytes
        self.buffer = io.BytesIO()
        self.total = 0
        self.oversize = False

    def new_file(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.total = 0
        self.oversize = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.total += len(raw_data)
        if self.total > self.max_bytes:
            if not self.oversize:
                self.oversize = True
                self.buffer = io.BytesIO()
            return None
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        uploaded = InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=self.total,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
        uploaded.haven_oversize = self.oversize  # type: ignore[attr-defined]
        return uploaded


class DocumentUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "PDF, PNG, JPEG, plain text, Word (DOCX) or OpenDocument text (ODT). The file is checked by its "
            "contents and stored encrypted."
        ),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Document.Kind.choices)

    def clean_file(self):  # type: ignore[no-untyped-def]
        uploaded = self.cleaned_data["file"]
        limit = document_max_bytes()
        if getattr(uploaded, "haven_oversize", False) or uploaded.size > limit:
            raise forms.ValidationError(
                _("The file is larger than the limit of %(limit)s. Upload a smaller file.")
                % {"limit": filesizeformat(limit)},
                code="too_large",
            )
        return uploaded


class DocumentDestroyForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Why is it destroyed?"), choices=DestroyReason.CHOICES)


class DateInput(forms.DateInput):
    input_type = "date"


class ExploitationReportForm(forms.Form):
    urls = forms.CharField(
        label=gettext_lazy("Web addresses where the material appears"),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text=gettext_lazy("One address per line. Do not open them again to check."),
    )
    hashes = forms.CharField(
        label=gettext_lazy("Image hashes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=gettext_lazy(
            "One per line, as given by the hotline or the police (for example PhotoDNA or MD5)."
        ),
    )
    reported_to = forms.ChoiceField(
        label=gettext_lazy("Reported to"),
        choices=ExploitationReport.ReportedTo.choices,
        widget=forms.RadioSelect,
    )
    report_reference = forms.CharField(label=gettext_lazy("Report reference"), max_length=200, required=False)
    reported_on = forms.DateField(label=gettext_lazy("Reported on"), widget=DateInput)

    def clean_reported_on(self):  # type: ignore[no-untyped-def]
        reported_on = self.cleaned_data["reported_on"]
        if reported_on > timezone.localdate():
            raise forms.ValidationError(_("The date of the report cannot be in the future."))
        return reported_on
