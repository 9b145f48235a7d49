"""Casework URLs, one module of views per area; every case URL carries its reference, never a name."""

from casework.views import (
    cases,
    consent,
    contacts,
    counselling,
    crisis,
    documents,
    duty,
    facts,
    intake,
    people,
    records,
    risk,
    safety,
    summaries,
    tasks,
)

app_name = "casework"

urlpatterns = [
    *cases.urlpatterns,
    *intake.urlpatterns,
    *people.urlpatterns,
    *consent.urlpatterns,
    *risk.urlpatterns,
    *crisis.urlpatterns,
    *safety.urlpatterns,
    *contacts.urlpatterns,
    *tasks.urlpatterns,
    *duty.urlpatterns,
    *facts.urlpatterns,
    *counselling.urlpatterns,
    *documents.urlpatterns,
    *records.urlpatterns,
    *summaries.urlpatterns,
]
