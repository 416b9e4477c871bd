"""Publish live events only once the transaction that caused them has committed.

A screen pop or a wallboard update must never describe data that was rolled back, and a client
reacting to an event must find the rows it names. So `publish` only queues the event on the session;
the session's `after_commit` hook hands the queue to the backend, and a rollback discards it.
Events published outside a transaction (no pending changes) go out at the next commit as well;
use `publish_now` for events that describe no database change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

from helpdesk.logs import current_request_id
from helpdesk.socketqueue import one_round_trip, send_held

log = logging.getLogger(__name__)

NAMESPACE = "/agents"
# Lists that change with every ticket, customer or text, for the pages and integrations that
# follow them (`watch {"kind": "feed", "id": "tickets"}`). Not every console: at 20 calls a
# second, each new caller would otherwise send every agent's console a message it does not use.
FEEDS = ("tickets", "customers", "sms", "sla")
FEED_TICKETS, FEED_CUSTOMERS, FEED_SMS, FEED_SLA = (f"feed:{name}" for name in FEEDS)
_PENDING_KEY = "helpdesk_pending_events"
_CALLBACKS_KEY = "helpdesk_on_commit"


@dataclass(frozen=True)
class Event:
    name: str
    rooms: tuple[str, ...]
    payload: dict[str, Any]
    # The request id of the webhook, page or task that caused the event (see helpdesk.logs).
    request_id: str | None = None


class EventBackend(Protocol):
    def emit(self, evt: Event) -> None: ...

    def disconnect(self, rooms: tuple[str, ...]) -> None:
        """Close every live connection in these rooms, in whichever process holds it."""


class SocketIOBackend:
    """Emits to Socket.IO rooms in the `/agents` namespace (through Redis when scaled out)."""

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio

    def emit(self, evt: Event) -> None:
        payload = evt.payload
        if evt.request_id and isinstance(payload, dict) and "request_id" not in payload:
            payload = {**payload, "request_id": evt.request_id}
        if not evt.rooms:
            return
        # One message for all the rooms: one publish on the queue, and a connection in several
        # of them (its `user:` room and its role's) receives the event once.
        to = evt.rooms[0] if len(evt.rooms) == 1 else list(evt.rooms)
        self.socketio.emit(evt.name, payload, to=to, namespace=NAMESPACE)
        log.debug("emitted %s to %s", evt.name, ",".join(evt.rooms))

    def disconnect(self, rooms: tuple[str, ...]) -> None:
        from helpdesk.socketqueue import disconnect_room

        for room in rooms:
            disconnect_room(self.socketio.server, room, NAMESPACE)


@dataclass
class RecordingBackend:
    """Keeps events in memory; what tests read to check what would have been sent."""

    events: list[Event] = field(default_factory=list)
    disconnected: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def emit(self, evt: Event) -> None:
        with self._lock:
            self.events.append(evt)

    def disconnect(self, rooms: tuple[str, ...]) -> None:
        with self._lock:
            self.disconnected.extend(rooms)

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]

    def clear(self) -> None:
        with self._lock:
            self.events.clear()
            self.disconnected.clear()


class _Registry:
    backend: EventBackend = RecordingBackend()


def set_backend(backend: EventBackend) -> None:
    """The process-wide fallback, used where no Flask app is active."""
    _Registry.backend = backend


def get_backend() -> EventBackend:
    """The active app's backend (so several apps in one process stay apart), else the fallback."""
    if has_app_context():
        backend = current_app.extensions.get("helpdesk_events")
        if backend is not None:
            return backend  # type: ignore[no-any-return]
    return _Registry.backend


def publish(
    session: Session | scoped_session[Session],
    name: str,
    rooms: Iterable[str],
    payload: dict[str, Any],
) -> None:
    """Queue an event on `session`; it is emitted after the session's next commit."""
    event_ = Event(name, tuple(rooms), payload, current_request_id())
    _queue(session, _PENDING_KEY).append(event_)


def on_commit(
    session: Session | scoped_session[Session], callback: Callable[[], Any], *, quick: bool = False
) -> None:
    """Run `callback` once the session's transaction commits (for example, to send a task).

    The commit's events are published before it runs, unless it is `quick`: a few Redis
    commands, which may take the events along in their own round trip (the dispatch gate).
    A slow one (an on-call notifier, file removals) must not hold a screen pop back.
    """
    _queue(session, _CALLBACKS_KEY).append(callback if quick else _Plain(callback))


@dataclass(frozen=True)
class _Plain:
    callback: Callable[[], Any]

    def __call__(self) -> Any:
        send_held()
        return self.callback()


@dataclass(frozen=True)
class _Batched:
    handler: Callable[[list[Any]], Any]
    item: Any


def on_commit_batched(
    session: Session | scoped_session[Session], handler: Callable[[list[Any]], Any], item: Any
) -> None:
    """Hand `item` to `handler` once the transaction commits, together with the other items the
    same transaction gave it: one call per commit, after the plain callbacks.

    The live statistics take a transaction's log entries this way, and push one wallboard update
    per agent and queue rather than one per entry. A plain callback (a dispatch task waiting to
    be sent) goes first, since an offer waits for it.
    """
    _queue(session, _CALLBACKS_KEY).append(_Batched(handler, item))


def _queue(session: Session | scoped_session[Session], key: str) -> list[Any]:
    # Tie the queue to a transaction: with none begun, a rollback would be a no-op that fires no
    # event, and the queue would leak into the next commit.
    real = session() if isinstance(session, scoped_session) else session
    if not real.in_transaction():
        real.begin()
    queue: list[Any] = real.info.setdefault(key, [])
    return queue


def disconnect_after_commit(
    session: Session | scoped_session[Session], rooms: Iterable[str]
) -> None:
    """Close the live connections in `rooms` once the transaction commits: a revoked sign-in or
    a changed role must not keep receiving what it may no longer see. A client that connects
    again is checked afresh and put in the rooms of its role as it is now."""
    closing = tuple(rooms)
    if closing:
        on_commit(session, lambda: _disconnect(closing))


def _disconnect(rooms: tuple[str, ...]) -> None:
    try:
        get_backend().disconnect(rooms)
    except Exception:
        # The sign-in is already refused for every new request and connection; only the
        # connection that is already open may linger until it next reconnects.
        log.exception("failed to close the connections of %s", ",".join(rooms))


def publish_now(name: str, rooms: Iterable[str], payload: dict[str, Any]) -> None:
    _deliver([Event(name, tuple(rooms), payload, current_request_id())])


def _deliver(events: list[Event]) -> None:
    from helpdesk.metrics import EVENTS_EMITTED

    backend = get_backend()
    for evt in events:
        EVENTS_EMITTED.labels(evt.name).inc()
        try:
            backend.emit(evt)
        except Exception:
            # The data is committed and the console recovers it from a snapshot on reconnect;
            # a failed push must not turn a successful request into an error.
            log.exception("failed to emit %s", evt.name)


_MARKS_KEY = "helpdesk_savepoint_marks"


@event.listens_for(Session, "after_transaction_create")
def _savepoint_began(session: Session, transaction: Any) -> None:
    """Remember how much was queued when a savepoint began, to undo only its part."""
    if transaction.nested:
        session.info.setdefault(_MARKS_KEY, {})[id(transaction)] = (
            len(session.info.get(_PENDING_KEY, [])),
            len(session.info.get(_CALLBACKS_KEY, [])),
        )


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Releasing a savepoint fires after_commit too; nothing is durable until the outermost
    # transaction commits, so a screen pop never describes an offer that is not there yet.
    if session.in_nested_transaction():
        session.info.get(_MARKS_KEY, {}).pop(id(session.get_nested_transaction()), None)
        return
    session.info.pop(_MARKS_KEY, None)
    pending = session.info.pop(_PENDING_KEY, None)
    callbacks = session.info.pop(_CALLBACKS_KEY, [])
    if not pending and not callbacks:
        return
    # The commit's messages on the Socket.IO queue go out in one round trip to Redis.
    with one_round_trip():
        if pending:
            _deliver(pending)
        _run_callbacks(callbacks)


def _run_callbacks(callbacks: list[Any]) -> None:
    batches: dict[Callable[[list[Any]], Any], list[Any]] = {}
    for callback in callbacks:
        if isinstance(callback, _Batched):
            batches.setdefault(callback.handler, []).append(callback.item)
            continue
        try:
            callback()
        except Exception:
            log.exception("after-commit callback failed")
    for handler, items in batches.items():
        try:
            handler(items)
        except Exception:
            log.exception("after-commit callback failed")


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is not None:
        # A savepoint rolled back, or a flush failed inside one (which rolls the savepoint back
        # with it): drop what was queued inside that savepoint, keep what came before. A failed
        # flush outside any savepoint leaves the outer transaction to be rolled back in turn.
        savepoint = previous_transaction
        while savepoint is not None and not savepoint.nested:
            savepoint = savepoint.parent
        if savepoint is None:
            return
        mark = session.info.get(_MARKS_KEY, {}).pop(id(savepoint), None)
        if mark is not None:
            events, callbacks = mark
            del session.info.get(_PENDING_KEY, [])[events:]
            del session.info.get(_CALLBACKS_KEY, [])[callbacks:]
        return
    session.info.pop(_MARKS_KEY, None)
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_CALLBACKS_KEY, None)
