"""Shared fixtures: an app per test on a database migrated once per session and emptied after
each test; users and tokens; the services tier's PostgreSQL and Redis.

Tiers: `unit` and `functional` run on SQLite everywhere. Tests that take the `backend` fixture
parametrised over PostgreSQL (see tests/api/conftest.py) and tests marked `services` need the real
servers on 127.0.0.1; without them they are skipped with the reason, except under CI=true where a
missing service fails the run.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

import helpdesk.db
from helpdesk.app import create_app
from helpdesk.auth import service as auth_service
from helpdesk.auth.models import Role, User
from helpdesk.config import Settings
from helpdesk.db import Base
from helpdesk.events import RecordingBackend
from helpdesk.extensions import db
from helpdesk.migrate import upgrade
from helpdesk.models import load_all

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PASSWORD = "correct horse battery"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _redis_port() -> tuple[str, int]:
    rest = REDIS_URL.split("://", 1)[1].split("/", 1)[0]
    host, _, port = rest.partition(":")
    return host or "127.0.0.1", int(port or 6379)


PG_UP = _port_open(PG_HOST, PG_PORT)
REDIS_UP = _port_open(*_redis_port())


def _claim_redis_database(url: str) -> str:
    """A Redis database of this run's own, unless TEST_REDIS_URL names one.

    The services tier empties its database before each test and runs Celery workers on it: two
    suites run at once on one machine (two checkouts) would flush each other's queues and take
    each other's tasks. Each run claims a free number (15 down to 1) with a key in database 0
    that expires after two hours if the run dies, and gives it back when it ends."""
    if "TEST_REDIS_URL" in os.environ or not REDIS_UP:
        return url
    import atexit

    import redis

    base = url.rsplit("/", 1)[0]
    try:
        claims = redis.Redis.from_url(base + "/0", socket_timeout=2)
        for number in range(15, 0, -1):
            key = f"helpdesk-tests:database:{number}"
            if claims.set(key, os.getpid(), nx=True, ex=7200):
                atexit.register(claims.delete, key)
                return f"{base}/{number}"
    except redis.RedisError:
        pass
    return url


REDIS_URL = _claim_redis_database(REDIS_URL)


def require_service(name: str, up: bool) -> None:
    if up:
        return
    message = f"{name} is not reachable on 127.0.0.1; the services tier needs it"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service is a failure)")
    pytest.skip(message)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"services tier: PostgreSQL {'up' if PG_UP else 'DOWN'} at {PG_HOST}:{PG_PORT}, "
        f"Redis {'up' if REDIS_UP else 'DOWN'} at {REDIS_URL}"
        + (
            ""
            if PG_UP and REDIS_UP
            else (" -> failing those tests (CI=true)" if IN_CI else " -> skipping those tests")
        )
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/unit/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.unit)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "unit: pure logic, no database")


# -- databases ----------


class Database:
    """A migrated database for the session, emptied between tests."""

    def __init__(self, url: str) -> None:
        self.url = url
        # Fault tests drop every connection to the database; a dead pooled one is replaced.
        self.engine = create_engine(url, pool_pre_ping=True)
        load_all()
        self.tables = list(reversed(Base.metadata.sorted_tables))

    def reset(self) -> None:
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in self.tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in self.tables:
                    conn.execute(table.delete())
                conn.execute(text("DELETE FROM sqlite_sequence")) if self._has_sequence(
                    conn
                ) else None

    @staticmethod
    def _has_sequence(conn: Any) -> bool:
        return bool(
            conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first()
        )


@pytest.fixture(scope="session")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = tmp_path_factory.mktemp("db") / "helpdesk.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    database = Database(url)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="session")
def pg_db() -> Iterator[Database]:
    require_service("PostgreSQL", PG_UP)
    name = f"helpdesk_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    database = Database(url)
    yield database
    database.engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def backend() -> str:
    """Which database the `app` fixture uses; tests/api overrides it to run on both."""
    return "sqlite"


@pytest.fixture
def database(request: pytest.FixtureRequest, backend: str) -> Database:
    return request.getfixturevalue("pg_db" if backend == "postgresql" else "sqlite_db")  # type: ignore[no-any-return]


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings.from_env(
        env={},
        DATABASE_URL=database.url,
        HELPDESK_INSTANCE_PATH=str(tmp_path / "instance"),
        SECRET_KEY="test-secret-key",
        TWILIO_AUTH_TOKEN="test-auth-token",
        PUBLIC_BASE_URL="http://localhost",
        TESTING=True,
        HELPDESK_SCHEDULER=False,
        # Webhook receivers in tests listen on 127.0.0.1.
        WEBHOOKS_ALLOW_PRIVATE=True,
        # Every wallboard change pushed at once, so that a test reads its pushes as soon as it
        # commits; the folding of pushes has its own tests (test_wallboard_pushes.py).
        HELPDESK_WALLBOARD_PUSH_S=0.0,
        extra={"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "WTF_CSRF_ENABLED": False},
    )


@pytest.fixture
def app(settings: Settings, database: Database) -> Iterator[Flask]:
    app = create_app(settings)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    database.reset()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def recorded(app: Flask) -> RecordingBackend:
    backend = app.extensions["helpdesk_events"]
    assert isinstance(backend, RecordingBackend)
    return backend


# -- the clock ----------

# Noon on a Wednesday in the helpdesk's time zone: hours away from either end of its local day,
# so that a test working "around now" (a visit window, calls half an hour old) stays on one local
# day whatever the time of day it runs at.
LOCAL_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=ZoneInfo(Settings.HELPDESK_TIMEZONE))


class Clock:
    """The app's clock, set to an instant of the test's choosing; it runs on from there at the
    pace of real time (rows keep their order, waits stay positive) and `advance` moves it."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._began = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._began)

    def advance(self, **kw: float) -> datetime:
        self._start += timedelta(**kw)
        return self.now()


@pytest.fixture
def app_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """`helpdesk.db.utcnow`, the one clock of the application, started at `LOCAL_NOON`.

    Every module imports the function itself (`from helpdesk.db import utcnow`, column defaults
    included), so patching one module's name would leave the others on the wall clock; the
    `datetime` that the function reads in its own module is replaced instead, and every caller
    follows. Request it before the fixtures that write rows, so that they are written on it too.
    """
    clock = Clock(LOCAL_NOON)

    class ClockDatetime(datetime):
        # Plain datetimes come out, as from the real clock: no test class leaks into the rows.
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            at = clock.now()
            return at.astimezone(tz) if tz is not None else at.astimezone().replace(tzinfo=None)

    monkeypatch.setattr(helpdesk.db, "datetime", ClockDatetime)
    drift = abs(helpdesk.db.utcnow() - clock.now())
    assert drift < timedelta(seconds=1), "helpdesk.db.utcnow no longer reads datetime.now"
    return clock


# -- people ----------


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    counter = {"n": 0}

    def make(role: Role | str = Role.AGENT, **kwargs: Any) -> User:
        counter["n"] += 1
        kwargs.setdefault("email", f"{Role(role).value}{counter['n']}@example.com")
        kwargs.setdefault("password", PASSWORD)
        return auth_service.create_user(session=db.session, role=role, **kwargs)

    return make


@pytest.fixture
def token_for(app: Flask) -> Callable[[User], str]:
    def issue(user: User) -> str:
        return auth_service.issue_token(session=db.session, user=user)

    return issue


class Api:
    """A JSON client for /api/v1 that sends a bearer token."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self._headers(), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post("/api/v1" + path, json=json, headers=self._headers(), **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.patch("/api/v1" + path, json=json, headers=self._headers(), **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.put("/api/v1" + path, json=json, headers=self._headers(), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete("/api/v1" + path, headers=self._headers(), **kwargs)


@pytest.fixture
def api_as(
    client: FlaskClient, make_user: Callable[..., User], token_for: Callable[[User], str]
) -> Callable[..., Api]:
    """`api_as("supervisor")`: an API client authenticated as a new user with that role."""

    def make(role: Role | str = Role.AGENT, **kwargs: Any) -> Api:
        user = make_user(role, **kwargs)
        api = Api(client, token_for(user))
        api.user = user  # type: ignore[attr-defined]
        return api

    return make


@pytest.fixture
def api(api_as: Callable[..., Api]) -> Api:
    return api_as(Role.AGENT)


@pytest.fixture
def customer_factory(app: Flask) -> Callable[..., Any]:
    from helpdesk.customers import service

    counter = {"n": 0}

    def make(**kwargs: Any) -> Any:
        counter["n"] += 1
        kwargs.setdefault("name", f"Customer {counter['n']}")
        kwargs.setdefault("phones", [f"+336120000{counter['n']:02d}"])
        return service.create(db.session, **kwargs)

    return make


@pytest.fixture
def ticket_factory(app: Flask, customer_factory: Callable[..., Any]) -> Callable[..., Any]:
    from helpdesk.tickets import service

    def make(**kwargs: Any) -> Any:
        if "requester_id" not in kwargs:
            kwargs["requester_id"] = customer_factory().id
        kwargs.setdefault("subject", "Printer does not turn on")
        kwargs.setdefault("actor", None)
        return service.create(db.session, **kwargs)

    return make
