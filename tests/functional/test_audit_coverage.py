"""Every privileged action is in the audit log: walked over the app's routes and the command line.

A route is privileged when the access table (tests/functional/access_table.py, which reads the
shared permissions of helpdesk/auth/permissions.py) keeps a plain agent out of it; every such
route that changes state, and every download of data (an export), must be declared in
helpdesk/audit/actions.py. Every `helpdesk` command that changes state must write an entry with
channel `cli`: the walk runs each one. Then the entries themselves, read through the audit API.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from helpdesk.api.core import OPERATIONS
from helpdesk.audit.actions import AUDITED
from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.cli import main
from helpdesk.extensions import db
from telephony import calls
from telephony.models import CallQueue
from tests.conftest import PASSWORD, Api
from tests.functional.access_table import ENDPOINTS
from tests.functional.test_console import (  # noqa: F401 (compiled_catalogues: French pages)
    SessionPerRequestClient,
    compiled_catalogues,
    sign_in,
)

WHERE = "helpdesk/audit/actions.py"


def _privileged(endpoint: str) -> bool:
    access = ENDPOINTS.get(endpoint)
    return isinstance(access, frozenset) and Role.AGENT not in access


def _csv_operations() -> set[tuple[str, str]]:
    return {(op.path, op.method.upper()) for op in OPERATIONS if "text/csv" in op.media}


def _routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, rule.rule


def _is_export(rule: str, method: str) -> bool:
    """A download of data: a CSV file, a personal-data export, an API report offered as CSV."""
    return method == "GET" and (
        rule.endswith(".csv") or rule.endswith("/export") or (rule, method) in _csv_operations()
    )


# -- the walk over the routes ---------------------------------------------------------------------


# Changes only a non-agent role may make that are not an administrator's act, and why.
NOT_STAFF_ACTS = {
    "mail_api.ingest_raw_post": "customers' mail handed in by the mail provider's inbound route "
    "(role integration): each message is kept in mail_messages with its source, like a webhook",
}


def test_every_privileged_change_and_every_export_is_audited(app: Flask) -> None:
    missing, not_exports = set(), set()
    for endpoint, method, rule in _routes(app):
        if endpoint in NOT_STAFF_ACTS:
            continue
        if _is_export(rule, method):
            audited = AUDITED.get(endpoint)
            if audited is None:
                missing.add(f"{endpoint} (export, GET {rule})")
            elif not audited.export:
                not_exports.add(endpoint)
        elif method != "GET" and _privileged(endpoint) and endpoint not in AUDITED:
            missing.add(f"{endpoint} ({method} {rule}, for {sorted(ENDPOINTS[endpoint])})")
    assert not missing, (
        f"privileged changes or exports missing from the audit log: {sorted(missing)}; declare "
        f"each in AUDITED in {WHERE}"
    )
    assert not not_exports, f"exports whose GET would not be audited: {sorted(not_exports)}"


def test_the_table_names_only_real_endpoints(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _, _ in _routes(app)}
    assert not set(AUDITED) - endpoints, f"stale entries in {WHERE}"


# -- opening a form is not a change ---------------------------------------------------------------


@pytest.fixture
def console(app: Flask) -> SessionPerRequestClient:
    return SessionPerRequestClient(app, app.response_class, use_cookies=True)


def _entries(**where: Any) -> list[AuditEntry]:
    db.session.expire_all()
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, key) == value)
    return list(db.session.scalars(stmt))


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(AuditEntry.id))) or 0


def test_opening_an_edit_form_writes_no_entry(
    app: Flask, api_as: Callable[..., Api], console: SessionPerRequestClient
) -> None:
    from helpdesk.dispatch import service as dispatch
    from kb import service as kb

    admin = api_as(Role.ADMIN)
    calendar = admin.post("/sla/calendars", json={"name": "Office", "always_open": True})
    policy = admin.post(
        "/sla/policies",
        json={
            "name": "Standard",
            "calendar_id": calendar.get_json()["id"],
            "targets": {"normal": {"first_response": 3600, "resolution": 28800}},
        },
    )
    assert policy.status_code == 201, policy.get_json()
    ids = {
        "calendar_id": calendar.get_json()["id"],
        "policy_id": policy.get_json()["id"],
        "technician_id": dispatch.create_technician(
            db.session, name="Léa", phone="+33612345670", home_lat=48.85, home_lon=2.35
        ).id,
        "article_id": kb.create_article(
            db.session, title="Reset a box", locale="en", status="published"
        ).id,
    }
    db.session.commit()
    assert sign_in(console, admin.user).status_code == 302
    before = _count()
    opened = []
    for rule in app.url_map.iter_rules():
        audited = AUDITED.get(rule.endpoint)
        if audited is None or audited.export or "GET" not in (rule.methods or ()):
            continue
        unknown = set(rule.arguments) - set(ids)
        assert not unknown, f"give this test an id for {unknown} ({rule.endpoint})"
        url = rule.build(ids, append_unknown=False)[1]
        if rule.rule.startswith("/api/"):
            r = admin.get(url.removeprefix("/api/v1"))
        else:
            r = console.get(url)
        assert r.status_code == 200, (rule.endpoint, r.status_code)
        opened.append(rule.endpoint)
    assert {"console.sla_calendar", "console.kb_edit", "console.dispatch_technician"} <= set(opened)
    assert _count() == before, [(e.action, e.target_id) for e in _entries()][-5:]


# -- supervisors' actions, through the audit API --------------------------------------------------


@pytest.fixture
def queues(app: Flask) -> None:
    db.session.add_all(
        [
            CallQueue(name="support", label_en="Support", label_fr="Assistance", skills={}),
            CallQueue(name="billing", label_en="Billing", label_fr="Facturation", skills={}),
        ]
    )
    db.session.commit()


def _audit(admin: Api, action: str) -> list[dict[str, Any]]:
    r = admin.get("/audit", query_string={"action": action})
    assert r.status_code == 200
    return list(r.get_json()["items"])


def test_a_supervisor_changing_an_agents_presence_is_audited(
    app: Flask,
    api_as: Callable[..., Api],
    make_user: Callable[..., User],
    console: SessionPerRequestClient,
) -> None:
    admin, supervisor = api_as(Role.ADMIN), api_as(Role.SUPERVISOR)
    agent = make_user(Role.AGENT)
    r = supervisor.put(f"/agents/{agent.id}/presence", json={"state": "break", "reason": "coach"})
    assert r.status_code == 200, r.get_json()
    # Refused: not an agent; no such state. Neither leaves an entry.
    not_an_agent = supervisor.put(f"/agents/{admin.user.id}/presence", json={"state": "break"})
    assert not_an_agent.status_code == 404
    assert supervisor.put(f"/agents/{agent.id}/presence", json={"state": "x"}).status_code == 422
    # Her own presence is not a privileged action.
    assert supervisor.put("/agents/me/presence", json={"state": "available"}).status_code == 200
    [entry] = _audit(admin, "agent.presence")
    assert entry["actor_id"] == supervisor.user.id and entry["channel"] == "api"
    assert (entry["target_type"], entry["target_id"]) == ("user", str(agent.id))
    assert entry["details"] == {"state": "break", "reason": "coach"}

    # The wallboard's buttons: the page script's JSON, a plain form, and a refused plain form
    # (redirected back with an error message) that must not be recorded as done.
    db.session.commit()
    assert sign_in(console, supervisor.user).status_code == 302
    path = f"/wallboard/agents/{agent.id}/state"
    json_accept = {"Accept": "application/json"}
    assert console.post(path, data={"state": "offline"}, headers=json_accept).status_code == 200
    assert console.post(path, data={"state": "available"}).status_code == 302
    refused = console.post(f"/wallboard/agents/{admin.user.id}/state", data={"state": "break"})
    assert refused.status_code == 302
    entries = _audit(admin, "agent.presence")
    assert [(e["channel"], e["details"]["state"]) for e in entries] == [
        ("console", "available"),
        ("console", "offline"),
        ("api", "break"),
    ]
    assert all(e["target_id"] == str(agent.id) for e in entries)


def test_moving_a_waiting_call_is_audited(
    app: Flask, api_as: Callable[..., Api], queues: None
) -> None:
    admin, supervisor = api_as(Role.ADMIN), api_as(Role.SUPERVISOR)
    call, _ = calls.upsert_inbound(
        db.session,
        inbound=calls.InboundCall(
            call_sid="CA" + "7" * 32, from_number="+33612345678", to_number="+331"
        ),
        region="FR",
    )
    support = db.session.scalar(select(CallQueue).filter_by(name="support"))
    calls.enqueue(db.session, call=call, queue=support)
    db.session.commit()
    assert supervisor.post(f"/calls/{call.id}/move", json={"queue": "billing"}).status_code == 200
    assert supervisor.post(f"/calls/{call.id}/move", json={"queue": "billing"}).status_code == 409
    [entry] = _audit(admin, "call.move")
    assert (entry["actor_id"], entry["target_type"], entry["target_id"]) == (
        supervisor.user.id,
        "call",
        str(call.id),
    )
    assert entry["details"] == {"queue": "billing"}


# -- customer value: imports and recomputes carry counts, never the lines -------------------------


def test_an_invoice_import_is_audited_with_counts_only(
    app: Flask, api_as: Callable[..., Api], customer_factory: Callable[..., Any]
) -> None:
    admin, supervisor = api_as(Role.ADMIN), api_as(Role.SUPERVISOR)
    customer = customer_factory(name="Grande Surface", emails=["achats@grande.example"])
    db.session.commit()
    today = date.today()
    line = {
        "customer": "achats@grande.example",
        "amount": 1200.5,
        "issued_on": str(today - timedelta(days=40)),
        "due_on": str(today - timedelta(days=10)),
    }
    r = supervisor.post(
        "/invoices",
        json={
            "invoices": [
                {**line, "number": "F-1"},
                {**line, "number": "F-2"},
                {**line, "number": "F-3", "customer": "+33699999999"},
            ]
        },
    )
    assert r.status_code == 200 and r.get_json()["created"] == 2, r.get_json()
    csv_text = (
        "number,customer,amount,issued_on,due_on\n"
        f"F-1,achats@grande.example,1300,{line['issued_on']},{line['due_on']}\n"
        f"F-4,{customer.id},10,{line['issued_on']},{line['due_on']}\n"
        f"F-5,achats@grande.example,NaN,{line['issued_on']},{line['due_on']}\n"
    )
    r = supervisor.client.post(
        "/api/v1/invoices/import",
        data=csv_text,
        headers={**supervisor._headers(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.get_json()
    csv_entry, json_entry = _audit(admin, "invoice.import")
    assert json_entry["actor_id"] == supervisor.user.id and json_entry["target_type"] == "invoice"
    assert json_entry["details"] == {"lines": 3, "created": 2, "updated": 0, "rejected": 1}
    assert csv_entry["details"] == {"lines": 3, "created": 1, "updated": 1, "rejected": 1}
    dumped = json.dumps([csv_entry, json_entry])
    for personal in ("achats@grande.example", "+33699999999", "Grande Surface"):
        assert personal not in dumped


def test_a_value_recompute_is_audited_with_the_customers_updated(
    app: Flask,
    api_as: Callable[..., Api],
    customer_factory: Callable[..., Any],
    console: SessionPerRequestClient,
) -> None:
    from helpdesk.value import service as value

    admin, supervisor = api_as(Role.ADMIN), api_as(Role.SUPERVISOR)
    month_ago = date.today() - timedelta(days=30)
    rows = [
        value.InvoiceRow(
            f"V-{n}", str(customer_factory().id), 1000 * n, "EUR", month_ago, month_ago
        )
        for n in range(1, 4)
    ]
    value.import_invoices(db.session, rows)
    db.session.commit()
    r = supervisor.post("/value/recompute")
    assert r.status_code == 200
    segments = r.get_json()["segments"]
    assert sum(segments.values()) == 3
    assert sign_in(console, supervisor.user).status_code == 302
    assert console.post("/value/recompute").status_code == 302
    from_console, from_api = _audit(admin, "value.recompute")
    for entry, channel in ((from_console, "console"), (from_api, "api")):
        assert entry["actor_id"] == supervisor.user.id and entry["channel"] == channel
        assert entry["details"] == {"customers_updated": 3, "segments": segments}


# -- reports, the knowledge base ------------------------------------------------------------------


def test_a_report_is_audited_when_downloaded_not_when_read(
    app: Flask, api_as: Callable[..., Api], console: SessionPerRequestClient
) -> None:
    admin, supervisor = api_as(Role.ADMIN), api_as(Role.SUPERVISOR)
    day = str(date.today())
    assert supervisor.get(f"/reports/calls?start={day}&end={day}").status_code == 200
    assert not _audit(admin, "report.export")
    assert supervisor.get(f"/reports/calls?start={day}&end={day}&format=csv").status_code == 200
    assert sign_in(console, supervisor.user).status_code == 302
    assert console.get("/reports/calls").status_code == 200
    assert console.get("/reports/calls.csv").status_code == 200
    entries = _audit(admin, "report.export")
    assert [(e["channel"], e["target_type"]) for e in entries] == [
        ("console", "call_report"),
        ("api", "call_report"),
    ]
    assert entries[1]["details"]["format"] == "csv"


def test_publishing_and_deleting_an_article_are_audited(
    app: Flask, api_as: Callable[..., Api]
) -> None:
    admin, supervisor, agent = api_as(Role.ADMIN), api_as(Role.SUPERVISOR), api_as(Role.AGENT)
    body = {"title": "Reset the box", "body": "Hold the button.", "locale": "en"}
    draft = agent.post("/kb/articles", json=body)
    assert draft.status_code == 201
    article_id = draft.get_json()["id"]
    assert not _audit(admin, "kb.")
    r = agent.patch(f"/kb/articles/{article_id}", json={"status": "published"})
    assert r.status_code == 200
    assert supervisor.delete(f"/kb/articles/{article_id}").status_code == 204
    deleted, published = _audit(admin, "kb.article")
    assert (published["action"], published["actor_id"], published["target_id"]) == (
        "kb.article.publish",
        agent.user.id,
        str(article_id),
    )
    assert published["details"] == {"status": "published"}
    assert (deleted["action"], deleted["actor_id"]) == ("kb.article.delete", supervisor.user.id)


# -- the command line -----------------------------------------------------------------------------

# Commands that change nothing, or whose change is recorded elsewhere, and why.
CLI_NOT_AUDITED = {
    "serve": "serves requests; each privileged request is audited by the recorder",
    "worker": "runs background jobs",
    "mail fetch": "takes customers' mail in, as the ingress does; each message keeps its source",
    "mail watch": "takes customers' mail in, as the ingress does; each message keeps its source",
    "beat": "schedules background jobs",
    "check": "reads the installation's state",
    "staffing": "a calculation",
    "users list": "reads",
    "kb check": "reads the search index",
    "simulate call": "calls the API as the token's user, where the audit is written",
    "simulate sms": "calls the API as the token's user, where the audit is written",
    "db upgrade": "the schema itself (the audit table among it); Alembic keeps its version",
    "db downgrade": "the schema itself (the audit table among it); Alembic keeps its version",
    "db current": "reads",
}


def _commands(group: click.Group, prefix: str = "") -> Iterator[str]:
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _commands(command, path + " ")
        else:
            yield path


def _cli_runs(tmp_path: Any, customer_email: str, user_email: str) -> dict[str, list[str]]:
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(
        "number,customer,amount,issued_on,due_on\n"
        f"C-1,{customer_email},120.00,2026-01-05,2026-02-04\n"
        f"C-2,{customer_email},,2026-01-05,2026-02-04\n",
        encoding="utf-8",
    )
    opposition = tmp_path / "opposition.txt"
    opposition.write_text("06 12 34 56 78\n", encoding="utf-8")
    return {
        "consent dnc-import": ["consent", "dnc-import", str(opposition), "--quiet"],
        "users create": [
            "users",
            "create",
            "--email",
            "new-agent@example.com",
            "--password",
            "a long enough passphrase",
            "--role",
            "agent",
        ],
        "users token": ["users", "token", "--email", user_email],
        "invoices import": ["invoices", "import", str(invoices)],
        "value recompute": ["value", "recompute"],
        "sms replay": ["sms", "replay"],
        "kb reindex": ["kb", "reindex"],
        "demo": ["demo", "--customers", "3", "--tickets", "4", "--quiet"],
    }


def test_every_command_that_changes_state_is_audited(
    app: Flask, tmp_path: Any, customer_factory: Callable[..., Any], make_user: Callable[..., User]
) -> None:
    customer_factory(name="Client CSV", emails=["csv@example.com"])
    staff = make_user(Role.SUPERVISOR)
    db.session.commit()
    runs = _cli_runs(tmp_path, "csv@example.com", staff.email)
    commands = set(_commands(main))
    undeclared = commands - set(runs) - set(CLI_NOT_AUDITED)
    assert not undeclared, (
        f"commands neither run here nor listed as not changing state: {sorted(undeclared)}; "
        "if one changes state, record it with helpdesk.audit.commands.record_command"
    )
    assert not (set(runs) | set(CLI_NOT_AUDITED)) - commands, "stale command names"
    env = {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HELPDESK_INSTANCE_PATH": app.instance_path,
        "REDIS_URL": "",
        "HELPDESK_SCHEDULER": "false",
        "USER": "ops-alice",
        "LOGNAME": "ops-alice",
    }
    runner = CliRunner()
    silent = []
    for name, args in runs.items():
        before = _count()
        db.session.rollback()  # let go of SQLite's lock for the command's own connection
        r = runner.invoke(main, args, env=env, catch_exceptions=False)
        assert r.exit_code == 0, (name, r.output)
        entries = _entries()[before:]
        command = f"helpdesk {name}"
        if not any(e.channel == "cli" and e.details.get("command") == command for e in entries):
            silent.append(name)
        assert all(e.details.get("os_user") == "ops-alice" for e in entries if e.channel == "cli")
        db.session.rollback()
    assert not silent, f"commands that changed state without an audit entry: {silent}"


def test_command_line_entries_read_well_in_the_api_and_the_page(
    app: Flask,
    tmp_path: Any,
    api_as: Callable[..., Api],
    customer_factory: Callable[..., Any],
    console: SessionPerRequestClient,
) -> None:
    admin = api_as(Role.ADMIN)
    customer_factory(name="Client CSV", emails=["csv@example.com"])
    db.session.commit()
    runs = _cli_runs(tmp_path, "csv@example.com", admin.user.email)
    env = {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": "",
        "USER": "ops-alice",
        "LOGNAME": "ops-alice",
    }
    runner = CliRunner()
    for name in ("users create", "users token", "invoices import", "value recompute"):
        db.session.rollback()
        r = runner.invoke(main, runs[name], env=env, catch_exceptions=False)
        assert r.exit_code == 0, r.output
    token_printed = r.output.strip()
    recompute, imported, token, created = admin.get("/audit").get_json()["items"][:4]
    assert {e["channel"] for e in (recompute, imported, token, created)} == {"cli"}
    assert created["action"] == "user.create" and created["actor_id"] is None
    assert created["details"] == {
        "command": "helpdesk users create",
        "os_user": "ops-alice",
        "email": "new-agent@example.com",
        "role": "agent",
    }
    assert "a long enough passphrase" not in json.dumps(created)
    assert (token["action"], token["target_id"]) == ("token.issue", str(admin.user.id))
    assert imported["details"] == {
        "command": "helpdesk invoices import",
        "os_user": "ops-alice",
        "lines": 2,
        "created": 1,
        "updated": 0,
        "rejected": 1,
    }
    assert recompute["details"]["customers_updated"] == 1
    assert token_printed not in json.dumps(admin.get("/audit").get_json())
    assert sign_in(console, admin.user).status_code == 302
    page = console.get("/admin/audit").get_data(as_text=True)
    assert "ops-alice on the command line" in page and "invoice.import" in page
    assert console.post("/settings", data={"locale": "fr", "timezone": "Europe/Paris"}).status_code
    french = console.get("/admin/audit").get_data(as_text=True)
    assert "ops-alice en ligne de commande" in french


def test_a_password_given_on_the_command_line_is_never_recorded(
    app: Flask, api_as: Callable[..., Api]
) -> None:
    admin = api_as(Role.ADMIN)
    db.session.commit()
    r = CliRunner().invoke(
        main,
        ["users", "create", "--email", "x@example.com", "--password", PASSWORD, "--role", "admin"],
        env={"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": ""},
    )
    assert r.exit_code == 0, r.output
    listed = admin.get("/audit").get_json()["items"]
    assert [e["action"] for e in listed] == ["user.create"]
    assert PASSWORD not in json.dumps(listed)
