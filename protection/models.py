"""Identity protection and witness-protection measures (SPEC.md §2 protection/)."""
