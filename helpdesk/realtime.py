"""The `/agents` Socket.IO namespace: who may connect, and which rooms they are put in.

Clients never name a room: the server joins each connection to `staff`, `user:<id>`,
`role:<role>` and the room of the sign-in behind its token (`session:<id>` or `token:<id>`) after
checking the token, and to `ticket:<id>` / `customer:<id>` only when asked to watch a record that
exists. Rooms are chosen once, on connect, so helpdesk.auth.access closes a user's connections
when their role changes or a sign-in ends, and the client reconnects into the rooms it may have.

Sockets authenticate with a short-lived signed token (issued to the logged-in console user) or an
API bearer token, because the Flask session a socket sees is a snapshot taken at connect time and
would not notice a logout.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, session
from flask_socketio import Namespace, join_room, leave_room
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from helpdesk.auth import access, permissions
from helpdesk.auth import service as auth_service
from helpdesk.auth.models import ConsoleSession, User
from helpdesk.events import FEEDS, NAMESPACE, publish_now
from helpdesk.extensions import db, socketio
from helpdesk.metrics import SOCKET_CONNECTIONS

SOCKET_TOKEN_MAX_AGE = (
    120  # seconds: long enough to open the socket, too short to be worth stealing
)
_SALT = "helpdesk.socket-token"
_WATCHABLE = ("ticket", "customer", "feed")
# Ids past the 32-bit `integer` keys name nothing; past 2⁶³ SQLite cannot even bind them, and a
# handler that raised gave the client no acknowledgement at all.
MAX_ID = 2**31 - 1


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_socket_token(user: User, console_session: ConsoleSession | None = None) -> str:
    """A token for one connection. One issued to a console page names its console session, so
    that signing that browser out refuses the token and closes the connections it opened."""
    data: dict[str, int] = {"uid": user.id, "v": user.session_version}
    if console_session is not None:
        data["s"] = console_session.id
    return _serializer().dumps(data)


def user_for_socket_token(token: str) -> User | None:
    """The user a socket token or an API bearer token stands for, if still valid."""
    found = _identify(token)
    return None if found is None else found[0]


def _identify(token: str) -> tuple[User, str | None] | None:
    """The user and the room of the sign-in behind the token (`session:<id>` or `token:<id>`),
    in which the connection is put so that ending that sign-in closes it."""
    if token.startswith(auth_service.TOKEN_PREFIX):
        row = auth_service.live_token(session=db.session, token=token)
        return None if row is None else (row.user, access.token_room(row.id))
    try:
        data = _serializer().loads(token, max_age=SOCKET_TOKEN_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not _is_id(data.get("uid")):
        return None
    user = db.session.get(User, data["uid"])
    if user is None or not user.active or user.session_version != data.get("v"):
        return None
    if "s" not in data:
        return user, None
    console = db.session.get(ConsoleSession, data["s"]) if _is_id(data["s"]) else None
    if console is None or console.ended_at is not None or console.user_id != user.id:
        return None
    return user, access.session_room(console.id)


def rooms_for(user: User) -> list[str]:

    rooms = ["staff", f"user:{user.id}", f"role:{user.role.value}"]
    if user.has_role(*permissions.SUPERVISE):
        rooms.append("supervisors")  # the wallboard's live figures and alerts
    return rooms


def _still_valid(token: str, rooms: list[str]) -> bool:
    """Read the token again once the connection is in its rooms. A role change or a revocation
    closes the rooms' connections right after it commits: one that committed between the first
    read and the joins found nobody to close here, and is seen now instead (the rollback ends the
    read transaction, so that this read is a fresh one)."""
    db.session.rollback()
    again = _identify(token)
    return again is not None and rooms_for(again[0]) == rooms


class AgentsNamespace(Namespace):  # type: ignore[misc]
    def on_connect(self, auth: dict[str, Any] | None = None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        # Each Socket.IO event runs in its own app context, whose teardown ends the session.
        found = _identify(str(token)) if token else None
        if found is None:
            return False  # refused: the client sees a connect_error
        user, sign_in_room = found
        if not user.has_role(*permissions.STAFF):
            return False  # a machine account (integration) has no live view of anything
        rooms = rooms_for(user)
        for room in rooms:
            join_room(room)
        if sign_in_room is not None:
            join_room(sign_in_room)
        if not _still_valid(str(token), rooms):
            return False
        # Per-connection state (Flask-SocketIO keeps a session per socket).
        session["agent"] = {"id": user.id, "name": user.name}
        session["watching"] = []
        SOCKET_CONNECTIONS.inc()
        return True

    def on_disconnect(self, *args: Any) -> None:
        if "agent" in session:
            SOCKET_CONNECTIONS.dec()
        for ticket_id in session.get("watching", []):
            _viewers_changed(ticket_id, _viewers().remove(ticket_id, _sid()))

    def on_watch(self, data: Any) -> dict[str, Any]:
        """Follow live changes to one ticket or customer (`{"kind": "ticket", "id": 12}`), or to
        every ticket, customer, text or service-level change (`{"kind": "feed", "id": "sla"}`).

        Watching a ticket shows the watcher among its viewers, unless `"presence": false`: a
        list's service-level badges follow their tickets without anyone appearing to read them.
        """
        if isinstance(data, dict) and data.get("kind") == "ticket" and "ids" in data:
            return _follow_tickets(data)
        target = _watch_target(data)
        if target is None:
            return {
                "ok": False,
                "error": f"expected {{kind: ticket|customer, id: <int from 1 to {MAX_ID}>}} or "
                "{kind: feed, id: " + "|".join(FEEDS) + "}",
            }
        if not _join(target):
            return dict(_GONE)
        kind, _, ident = target.partition(":")
        if kind == "ticket" and "agent" in session and data.get("presence", True) is not False:
            session["watching"] = [*session.get("watching", []), int(ident)]
            viewers = _viewers().add(int(ident), _sid(), session["agent"])
            if not _connected():
                # The page closed while this ran, and the disconnect handler may already have
                # cleared its viewer entries: take this one back, or it would stay listed.
                viewers = _viewers().remove(int(ident), _sid())
            _viewers_changed(int(ident), viewers)
        return {"ok": True, "room": target}

    def on_unwatch(self, data: Any) -> dict[str, Any]:
        target = _watch_target(data, check_exists=False)
        if target is not None:
            leave_room(target)
            kind, _, ident = target.partition(":")
            if kind == "ticket" and int(ident) in session.get("watching", []):
                session["watching"] = [t for t in session["watching"] if t != int(ident)]
                _viewers_changed(int(ident), _viewers().remove(int(ident), _sid()))
        return {"ok": target is not None}


def _sid() -> str:
    """The Socket.IO connection id, which Flask-SocketIO puts on the request."""
    return str(request.sid)  # type: ignore[attr-defined]


# Each event runs in a thread of its own, which may outlive its connection: a page that sends
# `watch` and closes at once leaves a handler running after the disconnect handler.
_GONE = {"ok": False, "error": "disconnected"}


def _connected() -> bool:
    """Whether this socket is still connected (False from the moment it starts to leave)."""
    return bool(socketio.server.manager.is_connected(_sid(), NAMESPACE))


def _join(room: str) -> bool:
    """Join a room unless the connection has gone; the Socket.IO manager raises KeyError or
    ValueError for a connection that left while the handler ran."""
    if not _connected():
        return False
    try:
        join_room(room)
    except (KeyError, ValueError):
        return False
    return True


def _viewers() -> Any:
    return current_app.extensions["helpdesk_viewers"]


def _viewers_changed(ticket_id: int, viewers: list[dict[str, Any]]) -> None:
    """Everyone on the ticket's page sees who else is there (no database change: sent now)."""
    publish_now(
        "ticket.viewers", [f"ticket:{ticket_id}"], {"ticket_id": ticket_id, "viewers": viewers}
    )


MAX_FOLLOWED = 200  # badges on one page


def _follow_tickets(data: dict[str, Any]) -> dict[str, Any]:
    """Follow many tickets at once without being listed among their viewers (`{"kind":
    "ticket", "ids": [...], "presence": false}`): a list's badges, checked in one query instead
    of one `watch` and one lookup per ticket."""
    from helpdesk.tickets.models import Ticket

    ids = data.get("ids")
    if not (
        data.get("presence") is False
        and isinstance(ids, list)
        and 0 < len(ids) <= MAX_FOLLOWED
        and all(_is_id(i) for i in ids)
    ):
        return {
            "ok": False,
            "error": f"expected {{kind: ticket, ids: [<int from 1 to {MAX_ID}>, ... up to "
            f"{MAX_FOLLOWED}], "
            "presence: false}",
        }
    found = db.session.scalars(select(Ticket.id).where(Ticket.id.in_(set(ids)))).all()
    rooms = [f"ticket:{i}" for i in sorted(found)]
    for room in rooms:
        if not _join(room):
            return dict(_GONE)
    return {"ok": True, "rooms": rooms}


def _watch_target(data: Any, *, check_exists: bool = True) -> str | None:
    from helpdesk.customers.models import Customer
    from helpdesk.tickets.models import Ticket

    if not isinstance(data, dict) or data.get("kind") not in _WATCHABLE:
        return None
    ident = data.get("id")
    if data["kind"] == "feed":
        return f"feed:{ident}" if isinstance(ident, str) and ident in FEEDS else None
    if not _is_id(ident):
        return None
    if check_exists:
        model = Ticket if data["kind"] == "ticket" else Customer
        if db.session.get(model, ident) is None:
            return None
    return f"{data['kind']}:{ident}"


def init_realtime(app: Any) -> None:
    from helpdesk.viewers import from_url

    app.extensions["helpdesk_viewers"] = from_url(app.config.get("REDIS_URL") or "")
    socketio.on_namespace(AgentsNamespace(NAMESPACE))
