"""Human labels for audit action codes.

Each app registers the labels of the codes it writes, at import of its services or in AppConfig.ready:

    register_action_labels({"auth.sign_in": _("Signed in")})

Labels should be lazy translations; the audit page shows them in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise

_ACTION_LABELS: dict[str, str | Promise] = {}


def register_action_labels(labels: Mapping[str, str | Promise]) -> None:
    """Add or replace labels for action codes ("app.verb")."""
    _ACTION_LABELS.update(labels)


def action_label(code: str) -> str:
    """Return the label of an action code in the active language, or the code itself if none is known."""
    label = _ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def registered_actions() -> dict[str, str | Promise]:
    """Return a copy of every registered code and its label."""
    return dict(_ACTION_LABELS)
