"""Ending a sign-in ends it everywhere: a copied console cookie after signing out, API tokens after
a new password or a deactivation, an administrator's revocation, and the live connections opened
with any of them (a demoted supervisor stops hearing the supervisors' room at once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk import events
from helpdesk.audit.models import AuditEntry
from helpdesk.auth import access
from helpdesk.auth.models import ApiToken, ConsoleSession, Role, User
from helpdesk.extensions import db, socketio
from helpdesk.realtime import issue_socket_token
from tests.conftest import PASSWORD
from tests.functional.test_console import compiled_catalogues  # noqa: F401  (fixture)

NS = "/agents"


class SessionPerRequestClient(FlaskClient):
    """Each request in its own app context (its own database session), as a server runs it."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def browser(app: Flask) -> Callable[[], FlaskClient]:
    def make() -> FlaskClient:
        return SessionPerRequestClient(app, app.response_class, use_cookies=True)

    return make


@pytest.fixture
def live_events(app: Flask) -> None:
    """Route events and disconnections to the real Socket.IO server instead of the recorder."""
    app.extensions["helpdesk_events"] = events.SocketIOBackend(socketio)


def _sign_in(client: FlaskClient, user: User) -> FlaskClient:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def _copy_of(client: FlaskClient, make: Callable[[], FlaskClient]) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = make()
    thief.set_cookie("session", cookie.value)
    return thief


def _signed_in(client: FlaskClient) -> bool:
    response = client.get("/tickets")
    return response.status_code == 200


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _live_session(user: User) -> ConsoleSession:
    rows = access.console_sessions(session=db.session, user=user)
    assert len(rows) == 1
    return rows[0]


# -- console sessions ------------------------------------------------------------------------------


def test_a_session_cookie_copied_before_logout_is_refused_after_it(
    browser: Callable[[], FlaskClient], make_user: Callable[..., User]
) -> None:
    agent = make_user(Role.AGENT)
    mine = _sign_in(browser(), agent)
    copy = _copy_of(mine, browser)
    assert _signed_in(copy)
    mine.post("/logout")
    assert not _signed_in(mine)
    response = copy.get("/tickets")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Signing in again starts a new session; the old cookie stays dead.
    assert _signed_in(_sign_in(browser(), agent))
    assert not _signed_in(copy)


def test_signing_out_leaves_the_users_other_browsers_signed_in(
    browser: Callable[[], FlaskClient], make_user: Callable[..., User]
) -> None:
    agent = make_user(Role.AGENT)
    laptop, desk = _sign_in(browser(), agent), _sign_in(browser(), agent)
    laptop.post("/logout")
    assert _signed_in(desk) and not _signed_in(laptop)


def test_a_new_password_ends_every_console_session_and_api_token(
    app: Flask,
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
) -> None:
    admin, agent = make_user(Role.ADMIN), make_user(Role.AGENT)
    console = _sign_in(browser(), agent)
    token = token_for(agent)
    api = browser()
    assert api.get("/api/v1/users/me", headers=_bearer(token)).status_code == 200
    changed = api.patch(
        f"/api/v1/users/{agent.id}",
        json={"password": "a fresh passphrase 42"},
        headers=_bearer(token_for(admin)),
    )
    assert changed.status_code == 200
    assert api.get("/api/v1/users/me", headers=_bearer(token)).status_code == 401
    assert not _signed_in(console)
    db.session.expire_all()
    assert access.api_tokens(session=db.session, user=agent) == []
    assert access.console_sessions(session=db.session, user=agent) == []


def test_a_deactivated_users_tokens_stay_revoked_when_the_account_comes_back(
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
) -> None:
    admin, agent = make_user(Role.ADMIN), make_user(Role.AGENT)
    console = _sign_in(browser(), agent)
    token, admin_token = token_for(agent), token_for(admin)
    api = browser()
    url = f"/api/v1/users/{agent.id}"
    assert api.patch(url, json={"active": False}, headers=_bearer(admin_token)).status_code == 200
    assert api.get("/api/v1/users/me", headers=_bearer(token)).status_code == 401
    assert api.patch(url, json={"active": True}, headers=_bearer(admin_token)).status_code == 200
    # Reactivation does not bring back what the deactivation ended.
    assert api.get("/api/v1/users/me", headers=_bearer(token)).status_code == 401
    assert not _signed_in(console)


# -- an administrator ends sign-ins --------------------------------------------------------------


def test_admin_lists_and_revokes_a_users_api_tokens(
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
) -> None:
    admin, agent = make_user(Role.ADMIN), make_user(Role.AGENT)
    first, second, third = token_for(agent), token_for(agent), token_for(agent)
    api, auth = browser(), _bearer(token_for(admin))
    listed = api.get(f"/api/v1/users/{agent.id}/tokens", headers=auth)
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert len(items) == 3 and all(
        set(i) == {"id", "name", "created_at", "expires_at", "last_used_at"} for i in items
    )
    assert first not in listed.get_data(as_text=True)  # never shown again
    one = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == agent.id).limit(1))
    assert api.delete(f"/api/v1/users/{agent.id}/tokens/{one}", headers=auth).status_code == 204
    assert api.delete(f"/api/v1/users/{agent.id}/tokens/{one}", headers=auth).status_code == 404
    still = [
        t
        for t in (first, second, third)
        if api.get("/api/v1/users/me", headers=_bearer(t)).status_code == 200
    ]
    assert len(still) == 2
    revoked = api.delete(f"/api/v1/users/{agent.id}/tokens", headers=auth)
    assert revoked.status_code == 200 and revoked.get_json() == {"ended": 2}
    for token in (first, second, third):
        assert api.get("/api/v1/users/me", headers=_bearer(token)).status_code == 401
    # The administrator's own token is untouched.
    assert api.get("/api/v1/users/me", headers=auth).status_code == 200
    assert api.get(f"/api/v1/users/{agent.id}/tokens", headers=auth).get_json() == {"items": []}
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_id == str(agent.id))
    ).all()
    assert sorted(actions) == ["user.token_revoke", "user.tokens_revoke"]


def test_admin_lists_and_ends_a_users_console_sessions(
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
) -> None:
    admin, agent = make_user(Role.ADMIN), make_user(Role.AGENT)
    laptop, desk = _sign_in(browser(), agent), _sign_in(browser(), agent)
    api, auth = browser(), _bearer(token_for(admin))
    listed = api.get(f"/api/v1/users/{agent.id}/sessions", headers=auth).get_json()["items"]
    assert len(listed) == 2 and {"id", "created_at", "last_seen_at", "user_agent", "ip"} == set(
        listed[0]
    )
    ended = api.delete(f"/api/v1/users/{agent.id}/sessions/{listed[0]['id']}", headers=auth)
    assert ended.status_code == 204
    assert [_signed_in(laptop), _signed_in(desk)].count(True) == 1
    everywhere = api.delete(f"/api/v1/users/{agent.id}/sessions", headers=auth)
    assert everywhere.get_json() == {"ended": 1}
    assert not _signed_in(laptop) and not _signed_in(desk)
    assert api.delete(f"/api/v1/users/{agent.id}/sessions/999999", headers=auth).status_code == 404
    assert api.get("/api/v1/users/999999/sessions", headers=auth).status_code == 404
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_id == str(agent.id))
    ).all()
    assert sorted(actions) == ["user.session_end", "user.sessions_end"]


def test_admin_console_pages_show_and_end_sign_ins(
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
) -> None:
    admin = make_user(Role.ADMIN, name="Ada Admin")
    agent = make_user(Role.AGENT, name="Bob Agent")
    console = _sign_in(browser(), admin)
    agents_browser = _sign_in(browser(), agent)
    agent_token = token_for(agent)
    listing = console.get("/admin/users").get_data(as_text=True)
    assert "Bob Agent" in listing and f"/admin/users/{agent.id}" in listing
    page = console.get(f"/admin/users/{agent.id}").get_data(as_text=True)
    assert 'id="console-sessions"' in page and 'id="api-tokens"' in page
    own = console.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "this browser" in own
    response = console.post(f"/admin/users/{agent.id}/sessions/end")
    assert response.status_code == 302
    assert not _signed_in(agents_browser)
    console.post(f"/admin/users/{agent.id}/tokens/revoke")
    assert console.get("/api/v1/users/me", headers=_bearer(agent_token)).status_code == 401
    assert "No API token." in console.get(f"/admin/users/{agent.id}").get_data(as_text=True)
    assert _signed_in(console)  # the administrator's own session is untouched
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_id == str(agent.id))
    ).all()
    assert sorted(actions) == ["user.sessions_end", "user.tokens_revoke"]
    for who in (make_user(Role.SUPERVISOR), agent):
        other = _sign_in(browser(), who)
        assert other.get("/admin/users").status_code == 403
        assert other.post(f"/admin/users/{admin.id}/sessions/end").status_code == 403
    assert _signed_in(console)


# -- live connections --------------------------------------------------------------------------


def _rooms_of(client: Any) -> set[str]:
    server = socketio.server
    sid = client.eio_sid and server.manager.sid_from_eio_sid(client.eio_sid, NS)
    return set(server.rooms(sid, namespace=NS))


def test_a_demoted_supervisors_open_socket_stops_hearing_the_supervisors(
    app: Flask,
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
    live_events: None,
) -> None:
    admin, supervisor = make_user(Role.ADMIN), make_user(Role.SUPERVISOR)
    sock = socketio.test_client(app, namespace=NS, auth={"token": token_for(supervisor)})
    assert sock.is_connected(NS) and "supervisors" in _rooms_of(sock)
    events.publish_now("wallboard.alert", ["supervisors"], {"n": 1})
    assert [e["name"] for e in sock.get_received(NS)] == ["wallboard.alert"]
    demoted = browser().patch(
        f"/api/v1/users/{supervisor.id}", json={"role": "agent"}, headers=_bearer(token_for(admin))
    )
    assert demoted.status_code == 200
    assert not sock.is_connected(NS)
    events.publish_now("wallboard.alert", ["supervisors"], {"n": 2})
    assert sock.queue == []  # what the server sent it since (get_received refuses once closed)
    assert not list(socketio.server.manager.get_participants(NS, "supervisors"))
    # Connecting again puts it in the rooms of its role as it is now.
    again = socketio.test_client(app, namespace=NS, auth={"token": token_for(supervisor)})
    assert again.is_connected(NS)
    assert "supervisors" not in _rooms_of(again) and "role:agent" in _rooms_of(again)


def test_an_unchanged_role_leaves_the_socket_open(
    app: Flask,
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
    live_events: None,
) -> None:
    admin, agent = make_user(Role.ADMIN), make_user(Role.AGENT)
    sock = socketio.test_client(app, namespace=NS, auth={"token": token_for(agent)})
    browser().patch(
        f"/api/v1/users/{agent.id}",
        json={"role": "agent", "name": "Renamed"},
        headers=_bearer(token_for(admin)),
    )
    assert sock.is_connected(NS)


def test_signing_out_closes_that_browsers_socket_and_refuses_its_tokens(
    app: Flask,
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    live_events: None,
) -> None:
    agent = make_user(Role.AGENT)
    laptop, desk = _sign_in(browser(), agent), _sign_in(browser(), agent)
    laptop_token = laptop.get("/socket-token").get_json()["token"]
    desk_token = desk.get("/socket-token").get_json()["token"]
    laptop_sock = socketio.test_client(app, namespace=NS, auth={"token": laptop_token})
    desk_sock = socketio.test_client(app, namespace=NS, auth={"token": desk_token})
    assert laptop_sock.is_connected(NS) and desk_sock.is_connected(NS)
    laptop.post("/logout")
    assert not laptop_sock.is_connected(NS)
    assert desk_sock.is_connected(NS)
    # The token fetched before signing out is still within its two minutes, and refused.
    retry = socketio.test_client(app, namespace=NS, auth={"token": laptop_token})
    assert not retry.is_connected(NS)
    assert laptop.get("/socket-token").status_code in (302, 401)


def test_revoking_tokens_or_a_new_password_closes_the_sockets_opened_with_them(
    app: Flask,
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
    live_events: None,
) -> None:
    admin, agent = make_user(Role.ADMIN), make_user(Role.AGENT)
    auth = _bearer(token_for(admin))
    console = _sign_in(browser(), agent)
    by_token = socketio.test_client(app, namespace=NS, auth={"token": token_for(agent)})
    by_console = socketio.test_client(
        app, namespace=NS, auth={"token": console.get("/socket-token").get_json()["token"]}
    )
    api = browser()
    api.delete(f"/api/v1/users/{agent.id}/tokens", headers=auth)
    assert not by_token.is_connected(NS) and by_console.is_connected(NS)
    api.patch(f"/api/v1/users/{agent.id}", json={"password": "another passphrase 7"}, headers=auth)
    assert not by_console.is_connected(NS)


def test_a_console_socket_token_names_its_session(
    app: Flask, make_user: Callable[..., User]
) -> None:
    """A token naming an ended session, or another user's, is refused."""
    agent, other = make_user(Role.AGENT), make_user(Role.AGENT)
    key = access.start_console_session(session=db.session, user=agent, user_agent="t", ip=None)
    row = db.session.scalar(select(ConsoleSession).where(ConsoleSession.user_id == agent.id))
    assert row is not None
    assert socketio.test_client(
        app, namespace=NS, auth={"token": issue_socket_token(agent, row)}
    ).is_connected(NS)
    assert not socketio.test_client(
        app, namespace=NS, auth={"token": issue_socket_token(other, row)}
    ).is_connected(NS)
    access.end_console_session(session=db.session, key=key)
    assert not socketio.test_client(
        app, namespace=NS, auth={"token": issue_socket_token(agent, row)}
    ).is_connected(NS)


def test_the_sign_ins_pages_speak_french(
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
) -> None:
    admin = make_user(Role.ADMIN, locale="fr")
    supervisor = make_user(Role.SUPERVISOR, name="Sam Superviseur")
    token_for(supervisor)
    console = _sign_in(browser(), admin)
    listing = console.get("/admin/users").get_data(as_text=True)
    assert "Équipe" in listing and "Superviseur" in listing
    page = console.get(f"/admin/users/{supervisor.id}").get_data(as_text=True)
    assert "Connexions de Sam Superviseur" in page and "Révoquer tous les jetons" in page
    ended = console.post(f"/admin/users/{supervisor.id}/tokens/revoke", follow_redirects=True)
    assert "1 jeton d\u2019API révoqué." in ended.get_data(as_text=True)


def test_a_demotion_committed_while_a_socket_connects_is_not_missed(
    app: Flask, make_user: Callable[..., User], token_for: Callable[[User], str], monkeypatch: Any
) -> None:
    """The demotion commits after the connect handler read the role and before it joined the
    rooms, so its closing finds nobody: the handler reads again once joined, and refuses."""
    import helpdesk.realtime as realtime
    from helpdesk.auth import service

    supervisor = make_user(Role.SUPERVISOR)
    token, supervisor_id = token_for(supervisor), supervisor.id
    joined = realtime.join_room
    demoted: list[bool] = []

    def join_then_demote(room: str, *args: Any, **kwargs: Any) -> None:
        joined(room, *args, **kwargs)
        if not demoted:
            demoted.append(True)
            # SQLite lets one writer in at a time, where PostgreSQL's reads block nobody: let
            # go of the handler's transaction as PostgreSQL would not have held it.
            db.session.rollback()
            with app.app_context():  # another request, with its own database session
                user = db.session.get(User, supervisor_id)
                service.update_user(session=db.session, user=user, role=Role.AGENT)

    monkeypatch.setattr(realtime, "join_room", join_then_demote)
    sock = socketio.test_client(app, namespace=NS, auth={"token": token})
    assert demoted and not sock.is_connected(NS)
    assert not list(socketio.server.manager.get_participants(NS, "supervisors"))
    monkeypatch.undo()
    again = socketio.test_client(app, namespace=NS, auth={"token": token})
    assert again.is_connected(NS) and "supervisors" not in _rooms_of(again)


def test_a_console_session_unused_for_two_weeks_has_ended(
    browser: Callable[[], FlaskClient], make_user: Callable[..., User]
) -> None:
    from datetime import timedelta

    from helpdesk.db import utcnow

    agent = make_user(Role.AGENT)
    used, idle = _sign_in(browser(), agent), _sign_in(browser(), agent)
    rows = access.console_sessions(session=db.session, user=agent)
    assert len(rows) == 2
    db.session.commit()
    assert _signed_in(used)
    idle_row = db.session.get(ConsoleSession, max(r.id for r in rows))
    assert idle_row is not None
    # The newer row is `idle`'s: the browsers signed in in that order.
    idle_row.last_seen_at = utcnow() - access.SESSION_IDLE_LIMIT - timedelta(minutes=1)
    db.session.commit()
    assert not _signed_in(idle)
    assert _signed_in(used)
    assert len(access.console_sessions(session=db.session, user=agent)) == 1
    assert access.live_counts(session=db.session)[agent.id][0] == 1


def test_revoking_ones_own_token_closes_the_socket_opened_with_it(
    app: Flask,
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
    live_events: None,
) -> None:
    agent = make_user(Role.AGENT)
    token, other = token_for(agent), token_for(agent)
    sock = socketio.test_client(app, namespace=NS, auth={"token": token})
    kept = socketio.test_client(app, namespace=NS, auth={"token": other})
    assert browser().delete("/api/v1/auth/token", headers=_bearer(token)).status_code == 204
    assert not sock.is_connected(NS) and kept.is_connected(NS)


def test_signing_out_everywhere_else_keeps_this_browser(
    app: Flask,
    browser: Callable[[], FlaskClient],
    make_user: Callable[..., User],
    live_events: None,
) -> None:
    """From their own settings page a user ends their other sessions (a shared computer left
    signed in) and the sockets opened there; this browser and their API tokens stay."""
    agent = make_user(Role.AGENT)
    here, left, phone = (_sign_in(browser(), agent) for _ in range(3))
    api_token = here.post(
        "/api/v1/auth/token", json={"email": agent.email, "password": PASSWORD}
    ).get_json()["token"]
    left_sock = socketio.test_client(
        app, namespace=NS, auth={"token": left.get("/socket-token").get_json()["token"]}
    )
    assert left_sock.is_connected(NS)
    page = here.get("/settings").get_data(as_text=True)
    assert page.count("<tr") == 4 and "this browser" in page  # a header and three sessions
    answer = here.post("/settings/sign-out-elsewhere")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/settings#sign-ins")
    assert "Signed out of 2 other browsers." in here.get("/settings").get_data(as_text=True)
    assert _signed_in(here) and not _signed_in(left) and not _signed_in(phone)
    assert not left_sock.is_connected(NS)
    assert here.get("/api/v1/users/me", headers=_bearer(api_token)).status_code == 200
    page = here.get("/settings").get_data(as_text=True)
    assert "Signed in here only." in page and "Sign out everywhere else" not in page
    # Nothing else to end: said so, nothing changes.
    here.post("/settings/sign-out-elsewhere")
    assert "You were signed in nowhere else." in here.get("/settings").get_data(as_text=True)
    assert _signed_in(here)


def test_a_console_request_reads_no_sign_in_rows_while_the_cache_holds_them(
    browser: Callable[[], FlaskClient], make_user: Callable[..., User], app_clock: Any
) -> None:
    """The sign-in is read once, then served from the per-process cache; its last use is
    written once a minute without emptying the cache; a sign-out is seen at the next request."""
    from tests.statements import statements

    agent = make_user(Role.AGENT)
    mine = _sign_in(browser(), agent)
    copy = _copy_of(mine, browser)
    assert _signed_in(mine)

    def sign_in_reads() -> list[str]:
        with statements() as seen:
            assert _signed_in(mine)
        # The page itself lists the agents: only the sign-in's own statements count here.
        return [s for s in seen if "console_sessions" in s or "WHERE users.id =" in s]

    assert sign_in_reads() == []
    first_seen = _live_session(agent).last_seen_at
    db.session.commit()
    app_clock.advance(minutes=2)
    touched = sign_in_reads()
    assert len(touched) == 1 and touched[0].startswith("UPDATE console_sessions")
    assert _live_session(agent).last_seen_at > first_seen
    db.session.commit()
    # This process dropped its copy (its last use is stale): read once, then cached again.
    reread = sign_in_reads()
    assert len(reread) == 1 and "key_hash" in reread[0]
    assert sign_in_reads() == []
    mine.post("/logout")
    assert not _signed_in(copy)
