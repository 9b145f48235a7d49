"""The threat assessment catalogue: codes with translated labels and weights, and the score thresholds.

An assessment ticks sources, kinds of threat and vulnerability factors; its score is the sum of their
weights. A score at or above a threshold proposes a protection level (never sets it: an officer decides).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.models import ProtectionLevel


@dataclass(frozen=True)
class Factor:
    code: str
    label: Promise
    weight: int


SOURCES: tuple[Factor, ...] = (
    Factor("organised_crime", _("Organised crime group"), 5),
    Factor("accused", _("Accused or suspect in proceedings"), 4),
    Factor("former_partner", _("Current or former partner"), 3),
    Factor("family_member", _("Family member"), 3),
    Factor("online_offender", _("Online offender, identity unknown"), 2),
    Factor("employer", _("Employer or colleagues (retaliation)"), 2),
    Factor("associates", _("Associates of the offender"), 2),
    Factor("other_source", _("Other source"), 1),
)

THREAT_KINDS: tuple[Factor, ...] = (
    Factor("death_threat", _("Threat to kill"), 6),
    Factor("physical_violence", _("Physical violence"), 5),
    Factor("witness_tampering", _("Pressure to withdraw or change testimony"), 5),
    Factor("threats_to_relatives", _("Threats against relatives"), 4),
    Factor("stalking", _("Stalking, online or offline"), 4),
    Factor("doxxing", _("Publishing personal details (doxxing)"), 4),
    Factor("image_publication", _("Publishing intimate images"), 3),
    Factor("intimidation", _("Intimidation or harassment"), 3),
    Factor("workplace_retaliation", _("Retaliation at work"), 2),
    Factor("other_threat", _("Other threat"), 1),
)

VULNERABILITIES: tuple[Factor, ...] = (
    Factor("offender_knows_address", _("The offender knows where the person lives"), 4),
    Factor("lives_with_offender", _("Lives with or near the offender"), 4),
    Factor("prior_violence", _("Violence in the past"), 4),
    Factor("minor", _("Minor"), 3),
    Factor("identity_public", _("Identity already public"), 3),
    Factor("dependants", _("Children or other dependants"), 2),
    Factor("isolation", _("Socially isolated"), 2),
    Factor("health", _("Health or disability"), 2),
    Factor("insecure_residence", _("Insecure residence status"), 2),
)

# From these scores up, an assessment proposes the level (the higher threshold wins).
LEVEL_THRESHOLDS: tuple[tuple[int, str], ...] = (
    (20, ProtectionLevel.SEALED),
    (12, ProtectionLevel.RESTRICTED),
)

REVIEW_INTERVAL_DEFAULT_DAYS = 90


def choices(factors: Iterable[Factor]) -> list[tuple[str, Promise]]:
    return [(factor.code, factor.label) for factor in factors]


def _weights(factors: Iterable[Factor]) -> dict[str, int]:
    return {factor.code: factor.weight for factor in factors}


def _labels(factors: Iterable[Factor]) -> dict[str, Promise]:
    return {factor.code: factor.label for factor in factors}


SOURCE_WEIGHTS = _weights(SOURCES)
THREAT_KIND_WEIGHTS = _weights(THREAT_KINDS)
VULNERABILITY_WEIGHTS = _weights(VULNERABILITIES)
LABELS: dict[str, Promise] = {**_labels(SOURCES), **_labels(THREAT_KINDS), **_labels(VULNERABILITIES)}


def threat_score(
    *, sources: Iterable[str], threat_kinds: Iterable[str], vulnerabilities: Iterable[str]
) -> int:
    """Sum the weights of the ticked codes (each code counts once; unknown codes raise KeyError)."""
    return (
        sum(SOURCE_WEIGHTS[code] for code in set(sources))
        + sum(THREAT_KIND_WEIGHTS[code] for code in set(threat_kinds))
        + sum(VULNERABILITY_WEIGHTS[code] for code in set(vulnerabilities))
    )


def level_for_score(score: int) -> str:
    """The protection level a score calls for, or "" when it calls for none in particular."""
    for threshold, level in LEVEL_THRESHOLDS:
        if score >= threshold:
            return str(level)
    return ""


def label_of(code: str) -> Promise | str:
    return LABELS.get(code, code)
