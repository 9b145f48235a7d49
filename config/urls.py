"""Haven's URLs. Every page lives under a language prefix; the language switcher posts to set_language."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("core.urls_unprefixed")),
]

urlpatterns += i18n_patterns(
    path("", include("core.urls")),
    path("accounts/", include("core.accounts.urls")),
    path("audit/", include("core.audit.urls")),
    path("notifications/", include("core.notifications.urls")),
    path("cases/", include("casework.urls")),
    path("protection/", include("protection.urls")),
    path("referrals/", include("referrals.urls")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    prefix_default_language=True,
)

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
