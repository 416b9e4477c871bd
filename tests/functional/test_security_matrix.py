"""The role matrix: every endpoint of the url_map and every Socket.IO event, for anonymous callers
and for each role, answers as tests/functional/access_table.py declares.

The walk is over the app's own url_map, so an endpoint added without an entry in the table fails
here with a message naming the file to edit. Requests carry dummy ids and empty bodies: a caller
who is let in gets a 404 or a 422, one who is not gets a 401 or a 403, before any work is done.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from helpdesk.audit.actions import AUDITED
from helpdesk.auth import service as auth_service
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db, socketio
from helpdesk.realtime import AgentsNamespace, issue_socket_token
from tests.conftest import PASSWORD
from tests.functional import access_table
from tests.functional.access_table import (
    ADMIN,
    ENDPOINTS,
    NETWORK,
    PUBLIC,
    SOCKET_EVENTS,
    TWILIO,
)

ROLES = (Role.AGENT, Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN)
METHODS_WITH_BODY = {"POST", "PUT", "PATCH"}
WHERE = access_table.__file__
_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


class FreshSessionClient(FlaskClient):
    """Each request in its own app context (its own database session), as a server runs it."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _url(rule: Rule) -> str:
    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if converter == "int":
            return "999999"
        if converter == "path":
            return "no-such-file.js"
        return "CA" + "0" * 32 if "sid" in name else "none"

    return _PARAM.sub(value, rule.rule)


def _routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, _url(rule)


@pytest.fixture
def staff(app: Flask) -> dict[Role, User]:
    users = {
        role: auth_service.create_user(
            session=db.session, email=f"{role.value}@matrix.example", password=PASSWORD, role=role
        )
        for role in ROLES
    }
    db.session.commit()
    return users


def test_every_endpoint_is_declared(app: Flask) -> None:
    missing = sorted({endpoint for endpoint, _, _ in _routes(app)} - set(ENDPOINTS))
    assert not missing, (
        f"endpoints with no entry in the access table: {missing}. Declare who may use each one "
        f"in ENDPOINTS in {WHERE} (PUBLIC, TWILIO, or the set of roles)."
    )
    stale = sorted(set(ENDPOINTS) - {endpoint for endpoint, _, _ in _routes(app)})
    assert not stale, f"entries in {WHERE} for endpoints that no longer exist: {stale}"


def test_every_socket_event_is_declared() -> None:
    handlers = {
        name[3:] for name in dir(AgentsNamespace) if name.startswith("on_") and name != "on_event"
    }
    missing = sorted(handlers - set(SOCKET_EVENTS))
    assert not missing, (
        f"Socket.IO events of /agents with no entry: {missing}. Declare them in SOCKET_EVENTS "
        f"in {WHERE}."
    )


def _call(client: FlaskClient, method: str, url: str, headers: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if method in METHODS_WITH_BODY:
        if url.startswith("/api/"):
            kwargs["json"] = {}
        else:
            kwargs["data"] = {}
    return client.open(url, method=method, **kwargs)


def _describe(endpoint: str, method: str, url: str, who: str, status: int) -> str:
    return (
        f"{method} {url} ({endpoint}) as {who} answered {status}, which disagrees with "
        f"{_access(ENDPOINTS[endpoint])} declared in {WHERE}"
    )


def _to_login(response: Any) -> bool:
    """Sent to the sign-in page to come back afterwards (Flask-Login's `?next=`)."""
    return response.status_code in (301, 302, 303) and "/login?next=" in response.headers.get(
        "Location", ""
    )


def _access(access: access_table.Access) -> str:
    if isinstance(access, str):
        return access.upper()
    return "{" + ", ".join(sorted(r.value for r in access)) + "}"


def test_api_endpoints_answer_each_role_as_declared(app: Flask, staff: dict[Role, User]) -> None:
    client = FreshSessionClient(app, app.response_class, use_cookies=False)
    problems: list[str] = []
    for endpoint, method, url in _routes(app):
        access = ENDPOINTS.get(endpoint)
        if not url.startswith("/api/") or access is None:
            continue
        seen = _call(client, method, url, {}).status_code
        if access == PUBLIC:
            if seen in (401, 403) or seen >= 500:
                problems.append(_describe(endpoint, method, url, "anonymous", seen))
            continue
        if seen != 401:
            problems.append(_describe(endpoint, method, url, "anonymous", seen))
        for role, user in staff.items():
            # A token per request: one of the endpoints revokes the token it is called with.
            token = auth_service.issue_token(session=db.session, user=user)
            response = _call(client, method, url, {"Authorization": f"Bearer {token}"})
            allowed = role in access
            status = response.status_code
            if (allowed and status in (401, 403)) or (not allowed and status != 403):
                problems.append(_describe(endpoint, method, url, role.value, status))
            if status >= 500:
                problems.append(_describe(endpoint, method, url, role.value, status))
    assert not problems, "\n".join(problems)


def _signed_in(app: Flask, user: User) -> FlaskClient:
    client = FreshSessionClient(app, app.response_class, use_cookies=True)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def test_console_and_webhooks_answer_each_role_as_declared(
    app: Flask, staff: dict[Role, User]
) -> None:
    problems: list[str] = []
    anonymous = FreshSessionClient(app, app.response_class, use_cookies=True)
    admin_token = auth_service.issue_token(session=db.session, user=staff[Role.ADMIN])
    for endpoint, method, url in _routes(app):
        access = ENDPOINTS.get(endpoint)
        if url.startswith("/api/") or access is None:
            continue
        response = _call(anonymous, method, url, {})
        status = response.status_code
        if access == NETWORK:
            outside = anonymous.open(url, method=method, environ_base={"REMOTE_ADDR": "8.8.8.8"})
            if status != 200 or outside.status_code != 403:
                problems.append(_describe(endpoint, method, url, "outside", outside.status_code))
            continue
        if access == TWILIO:
            # Neither a staff session nor a bearer token stands in for Twilio's signature.
            signed_in = _call(_signed_in(app, staff[Role.ADMIN]), method, url, {})
            bearer = _call(anonymous, method, url, {"Authorization": f"Bearer {admin_token}"})
            for who, got in (("anonymous", status), ("admin", signed_in.status_code)):
                if got != 403:
                    problems.append(_describe(endpoint, method, url, who, got))
            if bearer.status_code != 403:
                problems.append(_describe(endpoint, method, url, "bearer", bearer.status_code))
            continue
        if access == PUBLIC:
            if status in (401, 403) or status >= 500 or _to_login(response):
                problems.append(_describe(endpoint, method, url, "anonymous", status))
            continue
        if not (_to_login(response) or status == 401):
            problems.append(_describe(endpoint, method, url, "anonymous", status))
        for role, user in staff.items():
            # Signed in afresh each time: one of these endpoints signs the user out.
            response = _call(_signed_in(app, user), method, url, {})
            allowed = role in access
            status = response.status_code
            refused = status in (401, 403) or _to_login(response)
            if (allowed and refused) or (not allowed and status != 403) or status >= 500:
                problems.append(_describe(endpoint, method, url, role.value, status))
    assert not problems, "\n".join(problems)


def _socket(app: Flask, token: str | None) -> Any:
    auth = {"token": token} if token is not None else None
    return socketio.test_client(app, namespace="/agents", auth=auth)


@pytest.mark.parametrize("token", [None, "", "forged.token.value", "hdk_not-a-real-token"])
def test_sockets_refuse_anonymous_and_forged_tokens(app: Flask, token: str | None) -> None:
    client = _socket(app, token)
    assert not client.is_connected("/agents")


def test_socket_events_answer_each_role_as_declared(
    app: Flask, staff: dict[Role, User], ticket_factory: Callable[..., Any]
) -> None:
    ticket = ticket_factory()
    db.session.commit()
    problems: list[str] = []
    for role, user in staff.items():
        for kind, token in (
            ("socket token", issue_socket_token(user)),
            ("API token", auth_service.issue_token(session=db.session, user=user)),
        ):
            db.session.commit()
            client = _socket(app, token)
            allowed_connect = role in SOCKET_EVENTS["connect"]
            if client.is_connected("/agents") != allowed_connect:
                problems.append(f"connect with a {kind} as {role.value}: not as declared")
                continue
            for event in ("watch", "unwatch"):
                ack = client.emit(
                    event, {"kind": "ticket", "id": ticket.id}, namespace="/agents", callback=True
                )
                if bool(ack and ack.get("ok")) != (role in SOCKET_EVENTS[event]):
                    problems.append(f"{event} as {role.value} ({kind}) answered {ack!r}")
            client.disconnect(namespace="/agents")
    assert not problems, "\n".join(problems)


def test_a_socket_cannot_join_a_room_it_names(app: Flask, staff: dict[Role, User]) -> None:
    client = _socket(app, issue_socket_token(staff[Role.AGENT]))
    for bad in (
        {"kind": "user", "id": staff[Role.ADMIN].id},
        {"kind": "role", "id": 1},
        {"kind": "ticket", "id": "1; staff"},
        {"kind": "ticket", "id": 999999},
        "staff",
    ):
        ack = client.emit("watch", bad, namespace="/agents", callback=True)
        assert ack["ok"] is False, bad


def test_privileged_changes_are_audited() -> None:
    """Every admin-only change is written to the audit log (helpdesk/audit/actions.py)."""
    unaudited = [
        endpoint
        for endpoint, access in ENDPOINTS.items()
        if access == ADMIN
        and not endpoint.endswith("_get")
        and endpoint not in AUDITED
        and endpoint not in ("console.sla_calendars", "console.sla_policies", "console.audit_log")
        and endpoint not in ("audit_api.list_audit_get",)
        and endpoint not in ("console.admin_users", "console.admin_user")  # pages that only read
    ]
    assert not unaudited, (
        f"admin-only endpoints that change state but are not audited: {unaudited}; "
        "declare them in AUDITED in helpdesk/audit/actions.py"
    )
