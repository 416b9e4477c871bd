"""The security sweep that is not the role matrix: headers and the Content-Security-Policy, session
cookie flags, CSRF on every console form, login throttling, secrets kept out of logs, and the
audit log of privileged actions (API and console page)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from helpdesk.app import create_app
from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.config import Settings
from helpdesk.extensions import db
from helpdesk.logs import make_handler, redact
from helpdesk.security.headers import content_security_policy
from tests.conftest import PASSWORD, Database
from tests.functional.access_table import ENDPOINTS, TWILIO
from tests.functional.test_console import compiled_catalogues  # noqa: F401 (French pages)
from tests.functional.test_security_matrix import FreshSessionClient, _url

TEMPLATES = Path(__file__).resolve().parents[2] / "agents_ui" / "templates"
STATIC = Path(__file__).resolve().parents[2] / "agents_ui" / "static"
CSRF_INPUT = re.compile(r'name="(?:[\w-]*-)?csrf_token"[^>]*value="([^"]+)"')


def _settings(database: Database, tmp_path: Path, **overrides: Any) -> Settings:
    extra = {
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "WTF_CSRF_ENABLED": False,
        **overrides.pop("extra", {}),
    }
    values: dict[str, Any] = {
        "DATABASE_URL": database.url,
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "TWILIO_AUTH_TOKEN": "test-auth-token",
        "PUBLIC_BASE_URL": "http://localhost",
        "TESTING": True,
        "HELPDESK_SCHEDULER": False,
        **overrides,
    }
    return Settings.from_env(env={}, extra=extra, **values)


@pytest.fixture
def make_app(database: Database, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = create_app(_settings(database, tmp_path, **overrides))
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    database.reset()


class IsolatedClient(FlaskClient):
    """Each request in its own app context, as a server runs it (the test holds none open)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            db.session.commit()
            return super().open(*args, **kwargs)


def _user(app: Flask, role: Role, email: str) -> User:
    from helpdesk.auth import service

    with app.app_context():
        user = service.create_user(session=db.session, email=email, password=PASSWORD, role=role)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


# -- headers ---------------------------------------------------------------------------------


def test_console_pages_carry_a_strict_policy_and_the_usual_headers(make_app: Any) -> None:
    app = make_app()
    client = app.test_client()
    for path in ("/login", "/api/v1/openapi.json", "/healthz", "/static/console.css"):
        with client.get(path) as response:
            headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy, path
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert "connect-src 'self' ws://localhost" in policy
        assert "twilio.com" not in policy  # the simulator needs nothing from Twilio
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP in development


def test_policy_lets_the_voice_sdk_reach_twilio_only_when_twilio_is_configured(
    make_app: Any,
) -> None:
    app = make_app(
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        PUBLIC_BASE_URL="https://helpdesk.example.com",
        SESSION_COOKIE_SECURE=True,
    )
    headers = app.test_client().get("/login").headers
    policy = headers["Content-Security-Policy"]
    connect = next(d for d in policy.split("; ") if d.startswith("connect-src"))
    assert connect == (
        "connect-src 'self' wss://helpdesk.example.com https://*.twilio.com wss://*.twilio.com"
    )
    assert "media-src 'self' https://sdk.twilio.com" in policy
    assert "script-src 'self';" in policy  # the SDK is served from our own origin
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_policy_builder_ignores_a_malformed_base_url() -> None:
    policy = content_security_policy(twilio=False, public_base_url="not a url")
    assert "connect-src 'self';" in policy


def test_no_template_has_inline_script_style_or_event_handlers() -> None:
    """What the policy forbids must not be there to begin with, or the page would break."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
    style_attr = re.compile(r'\sstyle\s*=\s*"', re.I)
    found = []
    jinja = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
    for path in TEMPLATES.rglob("*.html"):
        text = jinja.sub("", path.read_text())
        for name, pattern in (("<script>", inline_script), ("on*=", handler)):
            if pattern.search(text):
                found.append(f"{path.name}: inline {name}")
        if re.search(r"<style", text, re.I) or style_attr.search(text):
            found.append(f"{path.name}: inline style")
    assert not found
    for path in STATIC.glob("*.js"):
        assert "eval(" not in path.read_text(), path.name


def test_session_cookie_is_http_only_same_site_and_secure_when_configured(make_app: Any) -> None:
    app = make_app(SESSION_COOKIE_SECURE=True, PUBLIC_BASE_URL="https://helpdesk.example.com")
    user = _user(app, Role.AGENT, "cookie@example.com")
    client = IsolatedClient(app, app.response_class, use_cookies=True)
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        base_url="https://helpdesk.example.com",
    )
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=lax"} <= flags


# -- CSRF ------------------------------------------------------------------------------------


def _console_posts(app: Flask) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.rule.startswith("/api/"):
            continue
        if ENDPOINTS.get(rule.endpoint) == TWILIO:
            continue  # signed by Twilio, not a browser form
        out.append((rule.endpoint, _url(rule)))
    return sorted(out)


# Posts that carry a signed token of their own in the address instead of the form's.
ONE_CLICK = {"console.unsubscribe_confirm"}


def test_every_console_form_refuses_a_post_without_its_token(make_app: Any) -> None:
    app = make_app(extra={"WTF_CSRF_ENABLED": True})
    admin = _user(app, Role.ADMIN, "csrf-admin@example.com")
    client = IsolatedClient(app, app.response_class, use_cookies=True)
    # Signing in is a form too: refused without the token, accepted with it.
    refused = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert refused.status_code == 400
    token = CSRF_INPUT.search(client.get("/login").get_data(as_text=True))
    assert token is not None
    signed_in = client.post(
        "/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert signed_in.status_code == 302
    posts = _console_posts(app)
    assert len(posts) >= 15
    accepted = []
    for endpoint, url in posts:
        if endpoint in ONE_CLICK:
            # RFC 8058's one-click unsubscribe is posted by the mail client, which has no form
            # token: the link's own signed token stands for it, so a made-up one changes nothing.
            assert client.post(url, data={"csrf_token": "forged"}).status_code == 404, endpoint
            continue
        for headers in ({}, {"Accept": "application/json"}):
            response = client.post(url, data={"state": "available"}, headers=headers)
            if response.status_code != 400:
                accepted.append(f"{endpoint} {url}: {response.status_code}")
            # A forged token is no better than none.
            forged = client.post(url, data={"csrf_token": "forged"}, headers=headers)
            if forged.status_code != 400:
                accepted.append(f"{endpoint} {url} (forged token): {forged.status_code}")
    assert not accepted, "console POSTs accepted without a CSRF token:\n" + "\n".join(accepted)
    # The session survived every refused post (the sign-out form was refused too).
    assert client.get("/tickets").status_code == 200


# -- login throttling ------------------------------------------------------------------------


def test_failed_logins_on_one_account_are_throttled_across_addresses(make_app: Any) -> None:
    app = make_app(HELPDESK_LOGIN_LIMIT="3 per minute")
    user = _user(app, Role.AGENT, "target@example.com")
    client = app.test_client()
    statuses = [
        client.post(
            "/api/v1/auth/token",
            json={"email": user.email, "password": "wrong guess"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        ).status_code
        for n in range(1, 6)
    ]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
    # Even the right password waits now, from yet another address: the account is the key.
    right = client.post(
        "/api/v1/auth/token",
        json={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert right.status_code == 429
    assert right.get_json()["error"]["code"] == "too_many_requests"


def test_the_console_and_the_api_share_one_throttle_per_account(make_app: Any) -> None:
    app = make_app(HELPDESK_LOGIN_LIMIT="3 per minute")
    user = _user(app, Role.AGENT, "shared@example.com")
    client = IsolatedClient(app, app.response_class, use_cookies=True)
    wrong = {"email": user.email, "password": "wrong guess"}
    assert client.post("/login", data=wrong).status_code == 401
    assert client.post("/login", data=wrong).status_code == 401
    assert client.post("/api/v1/auth/token", json=wrong).status_code == 401
    # The fourth guess is refused on either door.
    assert client.post("/api/v1/auth/token", json=wrong).status_code == 429
    assert client.post("/login", data=wrong).status_code == 429


def _guess(client: FlaskClient, email: str, forwarded: str, password: str = "wrong") -> int:
    return int(
        client.post(
            "/api/v1/auth/token",
            json={"email": email, "password": password},
            headers={"X-Forwarded-For": forwarded},
        ).status_code
    )


def test_behind_a_trusted_proxy_one_client_cannot_lock_everyone_out(make_app: Any) -> None:
    """Ten bad passwords from one client behind nginx lock that client and that account only;
    the audit log records the client's address, not the proxy's."""
    app = make_app(HELPDESK_LOGIN_LIMIT="3 per minute", HELPDESK_TRUSTED_PROXIES=1)
    _user(app, Role.AGENT, "victim@example.com")
    admin = _user(app, Role.ADMIN, "admin@example.com")
    client = app.test_client()
    for n in range(3):
        assert _guess(client, f"nobody{n}@example.com", "203.0.113.5") == 401
    assert _guess(client, "nobody9@example.com", "203.0.113.5") == 429  # that client: locked
    # Another client, through the same proxy (the same REMOTE_ADDR), signs in fine.
    here = {"X-Forwarded-For": "198.51.100.7"}
    issued = client.post(
        "/api/v1/auth/token", json={"email": admin.email, "password": PASSWORD}, headers=here
    )
    assert issued.status_code == 201
    headers = {**here, "Authorization": f"Bearer {issued.get_json()['token']}"}
    created = client.post(
        "/api/v1/users",
        json={"email": "new@example.com", "password": "a long passphrase", "role": "agent"},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    with app.app_context():
        ips = list(db.session.scalars(select(AuditEntry.ip)))
    assert ips == ["198.51.100.7"]


def test_without_trusted_proxies_forwarded_headers_are_ignored(make_app: Any) -> None:
    """A client cannot dodge the throttle by inventing X-Forwarded-For."""
    app = make_app(HELPDESK_LOGIN_LIMIT="3 per minute")
    client = app.test_client()
    for n in range(3):
        assert _guess(client, f"nobody{n}@example.com", f"192.0.2.{n}") == 401
    assert _guess(client, "nobody9@example.com", "192.0.2.99") == 429


# -- secrets in logs -------------------------------------------------------------------------


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything logged, formatted by the production handler (JSON), at DEBUG."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_no_secret_or_token_reaches_the_logs(
    make_app: Any, log_output: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = make_app()
    user = _user(app, Role.AGENT, "logs@example.com")
    client = IsolatedClient(app, app.response_class, use_cookies=True)
    # A console sign-in, a failed one, an API token, a call with it, and a signed webhook.
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
    client.post("/login", data={"email": user.email, "password": "Wrong-Pa55word!"})
    issued = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    token = issued.get_json()["token"]
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    form = {"CallSid": "CA" + "5" * 32, "From": "+33612345678", "To": "+15005550006"}
    url = "http://localhost/twilio/voice"
    signature = RequestValidator("test-auth-token").compute_signature(url, form)
    voice = client.post("/twilio/voice", data=form, headers={"X-Twilio-Signature": signature})
    assert voice.status_code == 200
    # Something that quotes a secret anyway, as a library's debug line or a traceback would.
    logging.getLogger("some.library").debug(
        "POST /api/v1/auth/token Authorization: Bearer %s body=password=%s&x=1", token, PASSWORD
    )
    written = log_output.getvalue()
    assert written  # the capture works: the line above at least was written
    for secret in (PASSWORD, "Wrong-Pa55word!", token, "test-auth-token", signature):
        assert secret not in written, f"{secret[:6]}… was written to the log"
    # Our own code never logged them in the first place (before any redaction).
    own = [r.getMessage() for r in caplog.records if r.name != "some.library"]
    for secret in (PASSWORD, token, "test-auth-token", signature):
        assert not any(secret in line for line in own)
    for line in written.strip().splitlines():
        json.loads(line)  # one JSON object per line


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Authorization: Bearer hdk_abcdefgh12345678", "Authorization: Bearer [redacted]"),
        ("token hdk_abcdefgh12345678 leaked", "token [redacted] leaked"),
        ('{"password": "hunter2", "email": "a@b.c"}', '{"password": "[redacted]", "email"'),
        ("password=hunter2&email=a", "password=[redacted]&email=a"),
        ("X-Twilio-Signature=abc123/+=", "X-Twilio-Signature=[redacted]"),
        ("plain text about a call", "plain text about a call"),
    ],
)
def test_redaction(raw: str, kept: str) -> None:
    assert kept in redact(raw)


# -- audit log -------------------------------------------------------------------------------


def test_privileged_actions_are_audited_and_listed_to_admins_only(
    app: Flask,
    api_as: Callable[..., Any],
    customer_factory: Callable[..., Any],
) -> None:
    admin = api_as(Role.ADMIN)
    supervisor = api_as(Role.SUPERVISOR)
    agent = api_as(Role.AGENT)
    customer = customer_factory()
    db.session.commit()
    created = admin.post(
        "/users",
        json={"email": "new@example.com", "password": "a long new password", "role": "agent"},
    )
    assert created.status_code == 201
    new_id = created.get_json()["id"]
    assert admin.patch(f"/users/{new_id}", json={"role": "supervisor"}).status_code == 200
    changed = admin.patch(f"/users/{new_id}", json={"password": "another long one"})
    assert changed.status_code == 200
    assert supervisor.get(f"/customers/{customer.id}/export").status_code == 200
    # Refused and failed requests leave no entry.
    assert agent.post("/users", json={"email": "x@example.com"}).status_code == 403
    assert admin.patch("/users/999999", json={"role": "admin"}).status_code == 404
    assert admin.delete(f"/customers/{customer.id}").status_code == 204

    listed = admin.get("/audit")
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert [i["action"] for i in items] == [
        "customer.erase",
        "customer.export",
        "user.update",
        "user.role_change",
        "user.create",
    ]
    erase, export, password_change, role_change, create = items
    assert role_change["target_type"] == "user" and role_change["target_id"] == str(new_id)
    assert role_change["details"] == {"role": "supervisor"}
    assert role_change["actor_email"] == admin.user.email and role_change["channel"] == "api"
    assert password_change["details"] == {"password": "[changed]"}
    assert "a long new password" not in json.dumps(items)
    assert create["target_id"] == str(new_id)
    assert export["actor_id"] == supervisor.user.id
    assert erase["target_id"] == str(customer.id)
    assert all(i["request_id"] for i in items)

    page = admin.get("/audit", query_string={"action": "user.", "limit": 2})
    body = page.get_json()
    assert [i["action"] for i in body["items"]] == ["user.update", "user.role_change"]
    rest = admin.get("/audit", query_string={"action": "user.", "cursor": body["next_cursor"]})
    assert [i["action"] for i in rest.get_json()["items"]] == ["user.create"]
    assert supervisor.get("/audit").status_code == 403
    bad = admin.get("/audit", query_string={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and "cursor" in bad.get_json()["error"]["fields"]


def test_console_configuration_changes_are_audited_and_shown_in_both_languages(
    app: Flask, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN, email="audit-admin@example.com")
    agent = make_user(Role.AGENT, email="audit-agent@example.com")
    db.session.commit()
    client = FreshSessionClient(app, app.response_class, use_cookies=True)
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    empty = client.get("/admin/audit").get_data(as_text=True)
    assert "Nothing recorded yet" in empty
    created = client.post(
        "/sla/calendars/new",
        data={
            "name": "Paris <office>",
            "timezone": "Europe/Paris",
            "country": "FR",
            "mon-0-start": "09:00",
            "mon-0-end": "17:00",
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)[:500]
    entry = db.session.query(AuditEntry).one()
    assert (entry.action, entry.channel, entry.actor_id) == (
        "sla.calendar.create",
        "console",
        admin.id,
    )
    assert entry.target_id and entry.details["name"] == "Paris <office>"
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "sla.calendar.create" in page and "Paris &lt;office&gt;" in page
    db.session.commit()
    assert client.post("/settings", data={"locale": "fr", "timezone": "Europe/Paris"}).status_code
    french = client.get("/admin/audit").get_data(as_text=True)
    assert "Journal d'audit" in french or "Journal d&#39;audit" in french
    other = FreshSessionClient(app, app.response_class, use_cookies=True)
    other.post("/login", data={"email": agent.email, "password": PASSWORD})
    assert other.get("/admin/audit").status_code == 403
