"""The services tier: real PostgreSQL, real Redis, real Celery worker processes."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PG_UP, REDIS_UP, require_service
from tests.dovecot import Dovecot
from tests.dovecot import available as dovecot_available


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


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real IMAP server (Debian's Dovecot) on a loopback port with a throwaway mailbox."""
    missing = dovecot_available()
    if missing is not None:
        message = f"{missing}: the IMAP tests need it"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing service is a failure)")
        pytest.skip(message)
    # A short path of its own: Dovecot's sockets live under it (108 bytes at most).
    root = Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
    server = Dovecot.start(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/services/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.services)


__all__ = ["PG_UP", "REDIS_UP"]
