"""Partner directory and closed-loop referral (SPEC.md §2 referrals/). Filled by the referrals issue."""
