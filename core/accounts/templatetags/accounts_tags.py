from django import template

from core.accounts.models import active_roles

register = template.Library()


@register.simple_tag(takes_context=True)
def haven_roles(context) -> list[str]:  # type: ignore[no-untyped-def]
    """Return the active role codes of the signed-in user (once per request)."""
    request = context.get("request")
    if request is None:
        return []
    cached = getattr(request, "_haven_roles", None)
    if cached is None:
        cached = active_roles(request.user)
        request._haven_roles = cached
    return cached
