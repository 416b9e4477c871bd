"""What one request may cost is bounded: the size of its body, how long its statements run (on
PostgreSQL and SQLite alike), and on PostgreSQL how long its transaction may sit idle holding
locks."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from helpdesk.auth.models import Role
from helpdesk.extensions import db


def test_an_oversized_body_is_refused_before_it_is_read(app, api_as):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    admin = api_as(Role.ADMIN)
    body = ("number;customer;amount;currency;issued_on;due_on\n" + "x" * 100_000).encode()
    r = admin.client.post(
        "/api/v1/invoices/import",
        data=body,
        headers={**admin._headers(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 413
    assert r.get_json()["error"]["code"]


def test_web_requests_run_under_postgresql_deadlines(app, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only; SQLite's deadline is tested above")
    with app.app_context():
        shown = {
            name: db.session.execute(text(f"SHOW {name}")).scalar()
            for name in ("statement_timeout", "idle_in_transaction_session_timeout")
        }
        assert shown == {"statement_timeout": "30s", "idle_in_transaction_session_timeout": "1min"}
        db.session.execute(text("SET LOCAL statement_timeout = 200"))
        with pytest.raises(OperationalError, match="statement timeout"):
            db.session.execute(text("SELECT pg_sleep(5)"))
        db.session.rollback()


SLOW_SQLITE = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
    "SELECT count(*) FROM n"
)


def test_a_long_sqlite_statement_is_interrupted_and_frees_the_lock(settings, backend):
    """The embedded form's one writer: a statement past HELPDESK_STATEMENT_TIMEOUT_S is
    interrupted, its transaction rolled back, and the next request writes at once."""
    if backend != "sqlite":
        pytest.skip("SQLite only")
    import time

    from helpdesk.app import create_app

    settings.HELPDESK_STATEMENT_TIMEOUT_S = 0.3
    app = create_app(settings, role="web")
    with app.app_context():
        db.session.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
        db.session.commit()
        started = time.monotonic()
        with pytest.raises(OperationalError, match="interrupted"):
            db.session.execute(SLOW_SQLITE)  # inside BEGIN IMMEDIATE: it holds the write lock
        assert time.monotonic() - started < 5
        db.session.rollback()
        # The lock is free and the connection fine: another connection writes at once.
        with db.engine.connect() as other:
            other.execute(text("INSERT INTO probe VALUES (1)"))
            other.commit()
        assert db.session.execute(text("SELECT count(*) FROM probe")).scalar() == 1
        # A quick statement long after the deadline was set is not cut short.
        time.sleep(0.4)
        assert db.session.execute(text("SELECT 1")).scalar() == 1
        db.session.rollback()
        db.engine.dispose()
    # Commands and workers, which run the long jobs, keep no deadline.
    settings.HELPDESK_STATEMENT_TIMEOUT_S = 0.01
    cli = create_app(settings, role="cli")
    with cli.app_context():
        quick = text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
            "SELECT count(*) FROM n"
        )
        assert db.session.execute(quick).scalar() == 300000
        db.session.rollback()
        db.engine.dispose()


def test_commands_and_workers_keep_no_deadline(database, settings, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    from helpdesk.app import create_app

    for role in ("worker", "cli"):
        app = create_app(settings, role=role)
        with app.app_context():
            assert db.session.execute(text("SHOW statement_timeout")).scalar() == "0"
            db.session.rollback()
            db.engine.dispose()
