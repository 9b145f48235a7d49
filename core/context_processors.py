from django.conf import settings
from django.http import HttpRequest


def haven(request: HttpRequest) -> dict[str, object]:
    """Values the base layout needs on every page."""
    return {
        "session_idle_seconds": settings.HAVEN_SESSION_IDLE_SECONDS,
        "session_warning_seconds": settings.HAVEN_SESSION_WARNING_SECONDS,
    }
