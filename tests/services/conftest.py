"""The services tier: real PostgreSQL, real Redis, real Celery worker processes."""

from __future__ import annotations

import pytest

from tests.conftest import PG_UP, REDIS_UP, require_service


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest.fixture
def redis_url() -> str:
    from tests.conftest import REDIS_URL

    require_service("Redis", REDIS_UP)
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    return REDIS_URL


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/services/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.services)


__all__ = ["PG_UP", "REDIS_UP"]
