"""Referral URLs: the partner directory, sending from a case, the partner portal, the disclosure ledger."""

from referrals.views import directory, ledger, portal, sending

app_name = "referrals"

urlpatterns = [
    *directory.urlpatterns,
    *sending.urlpatterns,
    *portal.urlpatterns,
    *ledger.urlpatterns,
]
