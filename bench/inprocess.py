"""The application in the benchmark's own process: Flask's test client, SQL counting, EXPLAIN.

Measuring through the test client leaves out the network and the WSGI server, so what remains is
the application and the database, the part the project's code decides. The SQL statements of each
request are counted with a `before_cursor_execute` listener: a count that stays the same on a small
and a full database, and for 10 and 100 rows, is what "no N+1" means.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.datagen import API_USER_EMAIL
from helpdesk.app import create_app
from helpdesk.extensions import db


@contextmanager
def application(database_url: str, extra: dict[str, Any] | None = None) -> Iterator[Flask]:
    """The app as production builds it, on `database_url`, with a throw-away instance folder
    (and the settings in `extra`)."""
    instance = tempfile.mkdtemp(prefix="helpdesk-bench-")
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-only-secret-key",
            "HELPDESK_INSTANCE_PATH": instance,
            "HELPDESK_SCHEDULER": False,
            **(extra or {}),
        }
    )
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(instance, ignore_errors=True)


def engine_of(app: Flask) -> Engine:
    with app.app_context():
        return db.engine


@dataclass
class ApiClient:
    """The test client with the bearer token of the benchmark's agent."""

    client: FlaskClient
    token: str

    @classmethod
    def login(cls, app: Flask, password: str) -> ApiClient:
        client = app.test_client()
        response = client.post(
            "/api/v1/auth/token", json={"email": API_USER_EMAIL, "password": password}
        )
        if response.status_code != 201:
            raise RuntimeError(f"token request failed: {response.status_code} {response.text}")
        return cls(client=client, token=response.json["token"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url: str) -> Any:
        response = self.client.get(url, headers=self.headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:300]}")
        return response.json

    def post(self, url: str, body: dict[str, Any]) -> Any:
        response = self.client.post(url, json=body, headers=self.headers)
        if response.status_code != 201:
            raise RuntimeError(f"POST {url}: {response.status_code} {response.text[:300]}")
        return response.json


@dataclass
class QueryLog:
    """Statements sent to the database while attached: how many, how long, and (if asked) which.

    The time is taken between `before_cursor_execute` and `after_cursor_execute`, which with
    psycopg's client-side cursors spans the round trip and the transfer of the rows, so what is
    left of a request's time is the Python side (routing, ORM, validation, JSON).
    """

    engine: Engine
    keep_statements: bool = False
    count: int = 0
    sql_seconds: float = 0.0
    statements: list[tuple[str, Any]] = field(default_factory=list)
    _started: float = 0.0

    def _before(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        self.count += 1
        if self.keep_statements:
            self.statements.append((statement, parameters))
        self._started = time.perf_counter()

    def _after(self, *_args: Any) -> None:
        self.sql_seconds += time.perf_counter() - self._started

    def reset(self) -> None:
        self.count, self.sql_seconds, self.statements = 0, 0.0, []

    @contextmanager
    def attached(self) -> Iterator[QueryLog]:
        self.reset()
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._before)
            event.remove(self.engine, "after_cursor_execute", self._after)


def explain(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of one captured statement, in a transaction rolled back after."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = [str(r[0]) for r in rows]
        conn.rollback()
    return plan
