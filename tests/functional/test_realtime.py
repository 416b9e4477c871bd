"""The `/agents` namespace: token checks on connect, server-chosen rooms, events after commit."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from helpdesk import events
from helpdesk.auth.models import Role
from helpdesk.extensions import db, socketio
from helpdesk.realtime import issue_socket_token


@pytest.fixture
def live_events(app):
    """Route events to the real Socket.IO server instead of the recorder."""
    app.extensions["helpdesk_events"] = events.SocketIOBackend(socketio)


def _connect(app, token):
    return socketio.test_client(app, namespace="/agents", auth={"token": token})


def test_refuses_missing_bad_and_expired_tokens(app, make_user, monkeypatch):
    assert not socketio.test_client(app, namespace="/agents").is_connected("/agents")
    assert not _connect(app, "nonsense").is_connected("/agents")
    assert not _connect(app, "hdk_unknown").is_connected("/agents")
    user = make_user(Role.AGENT)
    stale = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="helpdesk.socket-token")
    monkeypatch.setattr(time, "time", lambda: 1_000_000.0)
    old_token = stale.dumps({"uid": user.id, "v": user.session_version})
    monkeypatch.undo()
    assert not _connect(app, old_token).is_connected("/agents")
    forged = URLSafeTimedSerializer("another-key", salt="helpdesk.socket-token")
    assert not _connect(app, forged.dumps({"uid": user.id, "v": 1})).is_connected("/agents")


def test_logged_out_everywhere_user_refused(app, make_user):
    from helpdesk.auth import service

    user = make_user(Role.AGENT)
    token = issue_socket_token(user)
    service.update_user(session=db.session, user=user, password="a new password")
    assert not _connect(app, token).is_connected("/agents")


def test_events_reach_the_right_rooms(app, make_user, token_for, ticket_factory, live_events):
    agent, other = make_user(Role.AGENT), make_user(Role.AGENT)
    mine = _connect(app, issue_socket_token(agent))
    theirs = _connect(app, token_for(other))  # API bearer tokens work too
    assert mine.is_connected("/agents") and theirs.is_connected("/agents")
    ticket_factory()
    # A new ticket is not broadcast to every console: only the feed's followers hear of it.
    assert [e["name"] for e in theirs.get_received("/agents")].count("ticket.created") == 0
    ack = theirs.emit(
        "watch", {"kind": "feed", "id": "tickets"}, namespace="/agents", callback=True
    )
    assert ack == {"ok": True, "room": "feed:tickets"}
    ticket = ticket_factory(assignee_id=agent.id)
    mine_events = [e["name"] for e in mine.get_received("/agents")]
    theirs_events = [e["name"] for e in theirs.get_received("/agents")]
    # The assignee hears of it in user:<id>; the feed's follower in feed:tickets.
    assert mine_events.count("ticket.created") == 1
    assert theirs_events.count("ticket.created") == 1
    assert theirs.emit(
        "unwatch", {"kind": "feed", "id": "tickets"}, namespace="/agents", callback=True
    )["ok"]
    for bad in ({"kind": "feed", "id": "users"}, {"kind": "feed", "id": 1}):
        assert theirs.emit("watch", bad, namespace="/agents", callback=True)["ok"] is False
    ack = theirs.emit(
        "watch", {"kind": "ticket", "id": ticket.id}, namespace="/agents", callback=True
    )
    assert ack == {"ok": True, "room": f"ticket:{ticket.id}"}
    assert (
        theirs.emit("watch", {"kind": "ticket", "id": 999999}, namespace="/agents", callback=True)[
            "ok"
        ]
        is False
    )
    assert (
        theirs.emit("watch", {"kind": "agent:1", "id": 1}, namespace="/agents", callback=True)["ok"]
        is False
    )
    assert theirs.emit("watch", "staff", namespace="/agents", callback=True)["ok"] is False


def test_an_event_for_several_of_a_connections_rooms_arrives_once(app, make_user, live_events):
    supervisor = make_user(Role.SUPERVISOR)
    client = _connect(app, issue_socket_token(supervisor))
    client.get_received("/agents")
    rooms = [f"user:{supervisor.id}", "role:supervisor", "role:admin", "staff"]
    events.publish_now("call.updated", rooms, {"call_id": 1})
    received = [e for e in client.get_received("/agents") if e["name"] == "call.updated"]
    assert [e["args"][0]["call_id"] for e in received] == [1]


def test_nothing_emitted_for_rolled_back_work(app, make_user, customer_factory, live_events):
    from helpdesk.tickets import service

    client = _connect(app, issue_socket_token(make_user(Role.SUPERVISOR)))
    c = customer_factory()
    client.get_received("/agents")
    service.create(db.session, actor=None, subject="never", requester_id=c.id, commit=False)
    db.session.rollback()
    assert client.get_received("/agents") == []


def test_who_else_is_viewing_a_ticket(app, make_user, ticket_factory, live_events):
    ticket = ticket_factory()
    ana = make_user(Role.AGENT, name="Ana")
    bob = make_user(Role.AGENT, name="Bob")
    a = _connect(app, issue_socket_token(ana))
    b = _connect(app, issue_socket_token(bob))
    a.emit("watch", {"kind": "ticket", "id": ticket.id}, namespace="/agents", callback=True)
    b.emit("watch", {"kind": "ticket", "id": ticket.id}, namespace="/agents", callback=True)

    def last_viewers(client):
        seen = [
            e["args"][0]["viewers"]
            for e in client.get_received("/agents")
            if e["name"] == "ticket.viewers"
        ]
        return [v["name"] for v in seen[-1]] if seen else None

    assert last_viewers(a) == ["Ana", "Bob"]
    b.disconnect(namespace="/agents")
    assert last_viewers(a) == ["Ana"]
    a.emit("unwatch", {"kind": "ticket", "id": ticket.id}, namespace="/agents", callback=True)
    assert app.extensions["helpdesk_viewers"].add(ticket.id, "probe", {"id": 0, "name": "x"}) == [
        {"id": 0, "name": "x"}
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "ticket", "id": 2**63 + 5},
        {"kind": "customer", "id": 2**64},
        {"kind": "ticket", "id": 2**31},
        {"kind": "ticket", "ids": [1, 2**63 + 5], "presence": False},
    ],
)
def test_a_watch_with_an_id_out_of_range_is_refused_with_an_acknowledgement(
    app, make_user, live_events, bad
):
    """Before, the lookup of an id past 2⁶³ raised in the handler and the client waited for an
    acknowledgement that never came."""
    client = _connect(app, issue_socket_token(make_user(Role.AGENT)))
    ack = client.emit("watch", bad, namespace="/agents", callback=True)
    assert ack["ok"] is False and "expected" in ack["error"]
    assert client.emit("unwatch", bad, namespace="/agents", callback=True) == {"ok": False}


def test_a_watch_that_outlives_its_connection_leaves_no_viewer_behind(
    app, make_user, ticket_factory, live_events, monkeypatch
):
    """A page that sends `watch` and closes at once: the handler thread still runs after the
    disconnect handler has cleared the page's viewer entries, and must not list it again."""
    from helpdesk import realtime

    ticket = ticket_factory()
    client = _connect(app, issue_socket_token(make_user(Role.AGENT, name="Ana")))
    watch = {"kind": "ticket", "id": ticket.id}

    def others() -> list:
        return app.extensions["helpdesk_viewers"].remove(ticket.id, "no-such-socket")

    # Gone before the handler joins the room: nothing is joined, nobody is listed.
    monkeypatch.setattr(realtime, "_connected", lambda: False)
    assert client.emit("watch", watch, namespace="/agents", callback=True) == {
        "ok": False,
        "error": "disconnected",
    }
    badges = {"kind": "ticket", "ids": [ticket.id], "presence": False}
    assert client.emit("watch", badges, namespace="/agents", callback=True)["ok"] is False
    assert others() == []
    # Gone while the handler ran, between joining and listing the viewer: the entry is taken back.
    answers = iter([True, False])
    monkeypatch.setattr(realtime, "_connected", lambda: next(answers))
    client.emit("watch", watch, namespace="/agents", callback=True)
    assert others() == []
    # The Socket.IO manager refusing the join (the connection left meanwhile) is not an error.
    monkeypatch.setattr(realtime, "_connected", lambda: True)

    def refuse(room: str) -> None:
        raise KeyError(room)

    monkeypatch.setattr(realtime, "join_room", refuse)
    assert client.emit("watch", watch, namespace="/agents", callback=True)["ok"] is False
    monkeypatch.undo()
    assert client.emit("watch", watch, namespace="/agents", callback=True)["ok"] is True
    assert [v["name"] for v in others()] == ["Ana"]


def test_a_badge_follows_its_ticket_without_being_listed_as_a_viewer(
    app, make_user, ticket_factory, live_events
):
    from helpdesk.tickets import service

    ticket = ticket_factory()
    ana = make_user(Role.AGENT, name="Ana")
    lister = _connect(app, issue_socket_token(make_user(Role.AGENT, name="Lister")))
    reader = _connect(app, issue_socket_token(ana))
    badges = {"kind": "ticket", "ids": [ticket.id, 999999], "presence": False}
    ack = lister.emit("watch", badges, namespace="/agents", callback=True)
    assert ack == {"ok": True, "rooms": [f"ticket:{ticket.id}"]}  # an unknown id is left out
    for bad in (
        {"kind": "ticket", "ids": [ticket.id]},  # many at once only without presence
        {"kind": "ticket", "ids": [], "presence": False},
        {"kind": "ticket", "ids": [True], "presence": False},
        {"kind": "ticket", "ids": ["1"], "presence": False},
        {"kind": "ticket", "ids": list(range(1, 202)), "presence": False},
    ):
        assert lister.emit("watch", bad, namespace="/agents", callback=True)["ok"] is False, bad
    reader.emit("watch", {"kind": "ticket", "id": ticket.id}, namespace="/agents", callback=True)
    viewers = [
        e["args"][0]["viewers"]
        for e in reader.get_received("/agents")
        if e["name"] == "ticket.viewers"
    ]
    assert [v["name"] for v in viewers[-1]] == ["Ana"]  # the list's reader is not "viewing"
    lister.get_received("/agents")
    service.update(db.session, ticket, actor=ana, subject="Changed while listed")
    assert "ticket.updated" in [e["name"] for e in lister.get_received("/agents")]
