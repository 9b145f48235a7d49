"""Threat assessments of a case's person (officers only); a high score offers to raise the level."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.models import ProtectionLevel
from protection import threat_catalogue as catalogue
from protection.forms.threats import ThreatAssessmentForm
from protection.queries.levels import protection_case_get
from protection.queries.threats import pending_level_proposal, threat_assessments_for
from protection.services.threats import threat_assessment_record
from protection.views.levels import apply_errors


@login_required
@require_http_methods(["GET", "POST"])
def threats_view(request: HttpRequest, reference: str) -> HttpResponse:
    case = protection_case_get(request.user, reference)
    person = case.person
    if request.method == "POST":
        form = ThreatAssessmentForm(request.POST)
        if form.is_valid():
            try:
                assessment = threat_assessment_record(
                    actor=request.user,  # type: ignore[arg-type]
                    person=person,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The threat assessment is recorded (score %(score)d).") % {"score": assessment.score},
                )
                return redirect("protection:threats", reference=case.reference)
    else:
        form = ThreatAssessmentForm()
    assessments = list(threat_assessments_for(person=person)[:50])
    latest = assessments[0] if assessments else None
    proposal = pending_level_proposal(person=person, assessment=latest)
    history = [
        {
            "assessment": assessment,
            "sources": [catalogue.label_of(code) for code in assessment.sources],
            "threat_kinds": [catalogue.label_of(code) for code in assessment.threat_kinds],
            "vulnerabilities": [catalogue.label_of(code) for code in assessment.vulnerabilities],
        }
        for assessment in assessments
    ]
    return render(
        request,
        "protection/threats/threats.html",
        {
            "case": case,
            "section": "threats",
            "is_officer": True,
            "form": form,
            "history": history,
            "latest": latest,
            "proposal": proposal,
            "proposal_label": ProtectionLevel(proposal).label if proposal else "",
            "thresholds": [
                (score, ProtectionLevel(level).label) for score, level in catalogue.LEVEL_THRESHOLDS
            ],
        },
    )


urlpatterns = [
    path("cases/<str:reference>/threats/", threats_view, name="threats"),
]
