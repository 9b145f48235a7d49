"""A real Celery worker on the project's own app, consuming a Redis database used only by tests."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings


@pytest.fixture
def celery_worker():
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    client = redis.Redis.from_url(settings.HAVEN_TEST_REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"The test Redis at {settings.HAVEN_TEST_REDIS_URL} is unreachable: {error}")
    client.flushdb()
    # perform_ping_check=False: with task_ignore_result the ping would wait for a result forever.
    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"
    ) as worker:
        yield worker
    client.flushdb()


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Every test in this folder runs a real worker: mark it so `make test` runs them on their own."""
    for item in items:
        if "/tests/worker/" in str(item.path):
            item.add_marker(pytest.mark.worker)
