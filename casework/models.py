"""People, cases, contacts and counselling (SPEC.md §2 casework/). Filled by the casework issue."""
