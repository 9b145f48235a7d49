"""A test-only app: the model the permission tests and the benchmark protect."""
