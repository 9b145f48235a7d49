"""Password validation beyond Django's own."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAXIMUM_PASSWORD_LENGTH = 128


class MaximumLengthValidator:
    """Refuse an over-long password before it reaches the hasher (a cheap denial-of-service otherwise)."""

    def validate(self, password: str, user: object = None) -> None:
        if len(password) > MAXIMUM_PASSWORD_LENGTH:
            raise ValidationError(
                _("This password is too long: use at most %(maximum)d characters.")
                % {"maximum": MAXIMUM_PASSWORD_LENGTH},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return _("Your password can have at most %(maximum)d characters.") % {
            "maximum": MAXIMUM_PASSWORD_LENGTH
        }
