"""What one request may cost is bounded: the size of its body, and on PostgreSQL how long its
statements run and how long its transaction may sit idle holding locks."""

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
        pytest.skip("SQLite has no server-side deadline; the busy timeout bounds lock waits")
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
