"""Case facts by category: fraud, criminal process, whistleblower report and retaliation log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casework.access import CHANGE, VIEW, case_get_for
from casework.forms.facts import (
    CriminalProcessForm,
    FraudFactsForm,
    RetaliationEntryForm,
    WhistleblowerReportForm,
)
from casework.models import Case
from casework.selectors import facts as selectors
from casework.services import facts as services

FORM_CLASSES: dict[str, type[Form]] = {
    "fraud": FraudFactsForm,
    "criminal_process": CriminalProcessForm,
    "whistleblower_report": WhistleblowerReportForm,
    "retaliation": RetaliationEntryForm,
}


def _initial_forms(case: Case) -> tuple[dict[str, Form], dict[str, object]]:
    sections = selectors.facts_sections(case)
    records: dict[str, object] = {
        "fraud": selectors.fraud_facts_of(case) if sections["fraud"] else None,
        "criminal_process": selectors.criminal_process_of(case),
        "whistleblower_report": selectors.whistleblower_report_of(case)
        if sections["whistleblower_report"]
        else None,
    }
    forms: dict[str, Form] = {}
    version = {"version": case.version}
    if sections["fraud"]:
        fraud = records["fraud"]
        initial = (
            {
                name: getattr(fraud, name)
                for name in (
                    "loss_amount",
                    "currency",
                    "bank_notified",
                    "bank_notified_on",
                    "recall_deadline",
                )
            }
            if fraud
            else {}
        )
        forms["fraud"] = FraudFactsForm(initial={**initial, **version})
    process = records["criminal_process"]
    initial = {}
    if process is not None:
        initial = {
            name: getattr(process, name)
            for name in (
                "reported_to_police",
                "reported_on",
                "crime_reference",
                "police_officer",
                "referred_by_police",
            )
        }
        initial["hearing_dates"] = "\n".join(process.hearing_dates or [])
    forms["criminal_process"] = CriminalProcessForm(initial={**initial, **version})
    if sections["whistleblower_report"]:
        report = records["whistleblower_report"]
        initial = (
            {name: getattr(report, name) for name in ("received_on", "acknowledged_on", "feedback_given_on")}
            if report
            else {}
        )
        forms["whistleblower_report"] = WhistleblowerReportForm(initial={**initial, **version})
        forms["retaliation"] = RetaliationEntryForm(initial=version)
    return forms, records


def _render(request: HttpRequest, case: Case, *, bound: tuple[str, Form] | None = None) -> HttpResponse:
    forms, records = _initial_forms(case)
    if bound is not None:
        forms[bound[0]] = bound[1]
    report = records["whistleblower_report"]
    context = {
        "case": case,
        "section": "facts",
        "sections": selectors.facts_sections(case),
        "forms": forms,
        "fraud_facts": records["fraud"],
        "criminal_process": records["criminal_process"],
        "whistleblower_report": report,
        "deadlines": selectors.whistleblower_deadlines(report),  # type: ignore[arg-type]
        "retaliation_entries": (
            selectors.retaliation_entries_of(case) if selectors.facts_sections(case)["retaliation"] else []
        ),
        "can_change": CHANGE in case.held_perms,  # type: ignore[attr-defined]
        "currency_codes": sorted(services.ISO_4217_CODES),
    }
    return render(request, "casework/facts/facts.html", context, status=400 if bound else 200)


@login_required
@require_GET
def facts(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=VIEW)
    return _render(request, case)


def _apply_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _save(request: HttpRequest, reference: str, section: str) -> HttpResponse:
    case = case_get_for(request.user, reference, perm=CHANGE)
    if not selectors.facts_sections(case)[section]:
        raise Http404
    form = FORM_CLASSES[section](request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        save = {
            "fraud": services.fraud_facts_save,
            "criminal_process": services.criminal_process_save,
            "whistleblower_report": services.whistleblower_report_save,
            "retaliation": services.retaliation_entry_add,
        }[section]
        try:
            save(actor=request.user, case=case, expected_version=version, **data)  # type: ignore[operator]
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The case facts are saved."))
            return redirect("casework:facts", reference=case.reference)
    return _render(request, case, bound=(section, form))


@login_required
@require_POST
def facts_fraud(request: HttpRequest, reference: str) -> HttpResponse:
    return _save(request, reference, "fraud")


@login_required
@require_POST
def facts_criminal_process(request: HttpRequest, reference: str) -> HttpResponse:
    return _save(request, reference, "criminal_process")


@login_required
@require_POST
def facts_whistleblower_report(request: HttpRequest, reference: str) -> HttpResponse:
    return _save(request, reference, "whistleblower_report")


@login_required
@require_POST
def facts_retaliation_add(request: HttpRequest, reference: str) -> HttpResponse:
    return _save(request, reference, "retaliation")


urlpatterns = [
    path("<str:reference>/facts/", facts, name="facts"),
    path("<str:reference>/facts/fraud/", facts_fraud, name="facts_fraud"),
    path("<str:reference>/facts/criminal-process/", facts_criminal_process, name="facts_criminal_process"),
    path(
        "<str:reference>/facts/whistleblower-report/",
        facts_whistleblower_report,
        name="facts_whistleblower_report",
    ),
    path("<str:reference>/facts/retaliation/", facts_retaliation_add, name="facts_retaliation_add"),
]
