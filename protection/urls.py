"""Protection URLs: the officer's desk, levels, disclosure, measures, threats, handling instructions."""

from protection.views import desk, disclosure, instructions, levels, measures, threats

app_name = "protection"

urlpatterns = [
    *desk.urlpatterns,
    *levels.urlpatterns,
    *disclosure.urlpatterns,
    *instructions.urlpatterns,
    *measures.urlpatterns,
    *threats.urlpatterns,
]
