"""The risk questionnaire's questions: codes, default weights, and their translated labels and help texts.

A questionnaire version (casework.models.RiskQuestionnaire) stores only codes, weights, `critical` flags,
thresholds and re-screening intervals; what a question says lives here, keyed by its code, so it is
translated like every other string. A new version may re-weigh questions or drop some; a new question needs
a label here first.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Answer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    # Trauma-informed: the person chose not to answer; kept apart from "unknown", and like it, not known.
    DECLINED = "declined", _("Declined to answer")
    UNKNOWN = "unknown", _("Unknown")


@dataclass(frozen=True)
class QuestionText:
    label: Promise
    help_text: Promise


QUESTION_TEXTS: dict[str, QuestionText] = {
    "imminent_danger": QuestionText(
        _("Is the person in danger right now, or afraid of being harmed in the next hours?"),
        _("A “yes” proposes critical risk at once: consider the “Imminent danger” action."),
    ),
    "self_harm_plan": QuestionText(
        _("Does the person have a plan or the means to harm themselves or end their life?"),
        _(
            "A “yes” proposes critical risk at once. Ask directly and calmly; asking does not put the "
            "idea there."
        ),
    ),
    "self_harm_thoughts": QuestionText(
        _("Has the person had thoughts of harming themselves or of ending their life?"),
        _("Recent thoughts, including since the offence began."),
    ),
    "threats_of_violence": QuestionText(
        _("Has the offender threatened physical violence against the person or someone close to them?"),
        _("Threats made online count as much as threats made in person."),
    ),
    "offender_knows_location": QuestionText(
        _("Does the offender know where the person lives, works or studies?"),
        _("For example through doxxing, location sharing or a shared past."),
    ),
    "offender_known_personally": QuestionText(
        _("Does the person know the offender personally (a partner, former partner, relative or colleague)?"),
        _("Offenders close to the person can reach them offline too."),
    ),
    "images_threatened": QuestionText(
        _("Has the offender shared, or threatened to share, intimate images or private information?"),
        _("Include threats to send them to family, employers or schools."),
    ),
    "extortion_ongoing": QuestionText(
        _("Is the offender still demanding money, images or anything else?"),
        _("Ongoing demands usually escalate when they are not met."),
    ),
    "escalation": QuestionText(
        _("Has the abuse become more frequent or more severe recently?"),
        _("Compare the last weeks with the time before."),
    ),
    "device_or_account_access": QuestionText(
        _("Could the offender still have access to the person's devices or accounts?"),
        _("Shared passwords, stalkerware, a shared cloud account or a device the offender gave them."),
    ),
    "isolated": QuestionText(
        _("Is the person without anyone they trust to turn to?"),
        _("Family, friends or another service that knows what is happening."),
    ),
    "minor_at_risk": QuestionText(
        _("Is a child involved or at risk (the person, or a child in their care)?"),
        _("Child-protection duties may apply: follow the organisation's procedure."),
    ),
}

# Version 1: created by casework.services.risk.risk_questionnaire_active() when no version exists.
DEFAULT_QUESTIONS: list[dict[str, object]] = [
    {"code": "imminent_danger", "weight": 10, "critical": True},
    {"code": "self_harm_plan", "weight": 10, "critical": True},
    {"code": "self_harm_thoughts", "weight": 4, "critical": False},
    {"code": "threats_of_violence", "weight": 4, "critical": False},
    {"code": "offender_knows_location", "weight": 3, "critical": False},
    {"code": "offender_known_personally", "weight": 2, "critical": False},
    {"code": "images_threatened", "weight": 3, "critical": False},
    {"code": "extortion_ongoing", "weight": 3, "critical": False},
    {"code": "escalation", "weight": 2, "critical": False},
    {"code": "device_or_account_access", "weight": 2, "critical": False},
    {"code": "isolated", "weight": 1, "critical": False},
    {"code": "minor_at_risk", "weight": 3, "critical": False},
]
# The lowest score that proposes each level (below "medium": low).
DEFAULT_THRESHOLDS: dict[str, int] = {"medium": 3, "high": 7, "critical": 12}
# Days until the next screening is due, by the level chosen.
DEFAULT_RESCREEN_DAYS: dict[str, int] = {"low": 90, "medium": 30, "high": 7, "critical": 2}


def question_label(code: str) -> Promise | str:
    text = QUESTION_TEXTS.get(code)
    return text.label if text else code


def question_help(code: str) -> Promise | str:
    text = QUESTION_TEXTS.get(code)
    return text.help_text if text else ""
