"""`/healthz`, the `helpdesk` command and the start-up path of `make run`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from click.testing import CliRunner
from sqlalchemy import func, select

from helpdesk.auth.models import User
from helpdesk.cli import main
from helpdesk.customers.models import Customer, CustomerPhone
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_reports_backends(app, client):
    from telephony import ivr
    from telephony.ivr_queues import create_missing

    create_missing(db.session, ivr.load(app.instance_path))  # as `helpdesk db upgrade` does
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok"
    assert body["database"]["backend"] == "sqlite" and body["database"]["ok"] is True
    assert body["broker"] == {"backend": "in-process", "ok": True}
    assert body["telephony"]["backend"] == "simulator"
    assert body["mail"] == {"backend": "simulator", "ok": True}  # no MAIL_SMTP_URL here


def test_healthz_reports_unreachable_redis(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    body = client.get("/healthz").get_json()
    assert body["broker"]["backend"] == "redis" and body["broker"]["ok"] is False
    assert body["status"] == "degraded"


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "instance"),
    }


def test_cli_db_users_and_demo(tmp_path, monkeypatch):
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    r = runner.invoke(
        main,
        [
            "users",
            "create",
            "--email",
            "Lea@Example.com",
            "--password",
            "longenough",
            "--role",
            "agent",
            "--skills",
            "billing:3,support",
            "--languages",
            "fr,en",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "created agent lea@example.com" in r.output
    r = runner.invoke(
        main,
        [
            "users",
            "create",
            "--email",
            "lea@example.com",
            "--password",
            "longenough",
            "--role",
            "agent",
        ],
    )
    assert r.exit_code != 0 and "already exists" in r.output
    r = runner.invoke(
        main,
        [
            "users",
            "create",
            "--email",
            "x@example.com",
            "--password",
            "longenough",
            "--role",
            "agent",
            "--skills",
            "billing:9",
        ],
    )
    assert r.exit_code != 0 and "level must be 1-5" in r.output
    r = runner.invoke(main, ["users", "list"])
    assert "billing:3,support:1" in r.output and "fr,en" in r.output

    r = runner.invoke(main, ["demo", "--customers", "40", "--tickets", "120", "--if-empty"])
    assert r.exit_code == 0 and "already has data" in r.output  # the user above counts
    r = runner.invoke(
        main, ["demo", "--customers", "40", "--tickets", "120"], catch_exceptions=False
    )
    assert r.exit_code == 0, r.output
    assert "agent@demo.helpdesk" in r.output and "supervisor@demo.helpdesk" in r.output
    r = runner.invoke(main, ["check"])
    assert r.exit_code == 0, r.output  # the demo's settings replaced the queues upgrade made


def test_check_before_the_first_migration_names_the_one_problem(tmp_path, monkeypatch):
    """An empty database: the schema line says what to run; no SQL errors follow it."""
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    r = CliRunner().invoke(main, ["check"])
    assert r.exit_code != 0
    assert "run `helpdesk db upgrade`" in r.output
    assert "no such table" not in r.output and "[SQL:" not in r.output
    assert "skip  IVR and SLA calendars" in r.output


def test_demo_seed_is_realistic(app):
    from helpdesk import demo

    logins = demo.seed(customers=60, tickets=300, seed=7)
    assert {
        "admin@demo.helpdesk",
        "supervisor@demo.helpdesk",
        "dispatcher@demo.helpdesk",
        "agent@demo.helpdesk",
    } <= set(logins)
    roles = {u.role.value for u in db.session.scalars(select(User))}
    assert roles == {"admin", "supervisor", "dispatcher", "agent"}
    prefixes = {p[:3] for p in db.session.scalars(select(CustomerPhone.e164))}
    assert len(prefixes) >= 4  # numbers in several countries
    assert db.session.scalar(select(func.count(Ticket.id))) == 300
    statuses = set(db.session.scalars(select(Ticket.status).distinct()))
    assert len(statuses) == 6
    oldest = db.session.scalar(select(func.min(Ticket.created_at)))
    from helpdesk.db import utcnow

    assert (utcnow() - oldest).days >= 60
    assert db.session.scalar(select(func.count(Customer.id))) >= 60
    from helpdesk.auth.service import authenticate

    for email, password in logins.items():
        assert authenticate(session=db.session, email=email, password=password) is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_run_startup_path(tmp_path):
    """What `make run` does after installing: migrate, seed if empty, serve; then log in."""
    env = os.environ | _env(tmp_path)
    env.pop("REDIS_URL", None)
    exe = [sys.executable, "-m", "helpdesk.cli"]
    subprocess.run([*exe, "db", "upgrade"], env=env, check=True, cwd=ROOT, capture_output=True)
    seeded = subprocess.run(
        [*exe, "demo", "--if-empty", "--customers", "30", "--tickets", "60"],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    line = next(ln for ln in seeded.stdout.splitlines() if "agent@demo.helpdesk" in ln)
    password = line.split()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [*exe, "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).ok:
                    break
            except requests.RequestException:  # refused, or accepted while the worker loads
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        r = requests.post(
            base + "/api/v1/auth/token",
            timeout=5,
            json={"email": "agent@demo.helpdesk", "password": password},
        )
        assert r.status_code == 201
        tickets = requests.get(
            base + "/api/v1/tickets",
            timeout=5,
            headers={"Authorization": f"Bearer {r.json()['token']}"},
        )
        assert len(tickets.json()["items"]) == 25
        assert requests.get(base + "/api/v1/tickets", timeout=5).status_code == 401
        again = subprocess.run(
            [*exe, "demo", "--if-empty"],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert "skipped" in again.stdout and password in again.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


def test_twilio_mode_warns_about_the_test_credentials_number(database, tmp_path, caplog):
    from helpdesk.app import create_app
    from helpdesk.config import Settings

    def start(**overrides):
        caplog.clear()
        values = {
            "DATABASE_URL": database.url,
            "HELPDESK_INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "x",
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_AUTH_TOKEN": "live-token",
            "TESTING": True,
            "HELPDESK_SCHEDULER": False,
        }
        create_app(Settings.from_env(env={}, **(values | overrides)))
        return [r.getMessage() for r in caplog.records if r.name == "helpdesk.app"]

    with caplog.at_level("WARNING", logger="helpdesk.app"):
        warned = start()
        assert len(warned) == 1 and "+15005550006" in warned[0]
        assert start(TWILIO_PHONE_NUMBER="+33612345678") == []
        assert start(TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="") == []  # the simulator
        assert start(TWILIO_API_BASE_URL="http://127.0.0.1:9") == []  # a stand-in of Twilio


def test_healthz_checks_the_simulator_and_says_what_it_left_out(client):
    telephony = client.get("/healthz").get_json()["telephony"]
    assert telephony["ok"] is True and telephony["checked"] == "the built-in simulator is attached"
    assert telephony["not_checked"]


def test_healthz_asks_twilio_once_a_minute_and_reports_bad_credentials(database, tmp_path):
    import helpdesk.health
    from tests.twilio_mock import app_in_twilio_mode, start_mock

    mock, base, server = start_mock()
    try:
        for app in app_in_twilio_mode(database, tmp_path, TWILIO_API_BASE_URL=base):
            from telephony import ivr
            from telephony.ivr_queues import create_missing

            create_missing(db.session, ivr.load(app.instance_path))  # as `db upgrade` does
            client = app.test_client()
            first, second = (client.get("/healthz").get_json() for _ in range(2))
            fetches = [p for m, p, _ in mock.seen if m == "GET" and "/Accounts/" in p]
            assert len(fetches) == 1  # the second answer came from the minute's cache
            assert first["telephony"]["ok"] is True and first["status"] == "ok"
            assert "resolve account AC" in first["telephony"]["checked"]
            assert second["telephony"]["checked"] == first["telephony"]["checked"]
            assert "TWILIO_PHONE_NUMBER" in " ".join(first["telephony"]["not_checked"])
            app.extensions["health_telephony"]["at"] -= helpdesk.health.TELEPHONY_TTL_S
            client.get("/healthz")
            assert len([p for m, p, _ in mock.seen if m == "GET" and "/Accounts/" in p]) == 2
        # Twilio unreachable (or refusing the credentials): said, and the process stays in.
        for app in app_in_twilio_mode(database, tmp_path, TWILIO_API_BASE_URL="http://127.0.0.1:9"):
            answer = app.test_client().get("/healthz")
            body = answer.get_json()
            assert answer.status_code == 200 and body["status"] == "degraded"
            assert body["telephony"]["ok"] is False and body["telephony"]["error"]
    finally:
        server.shutdown()
        server.server_close()
