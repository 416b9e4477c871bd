"""One commit's events reach the Socket.IO queue on real Redis in one round trip, in order,
together with the dispatch gate's marks; a task sent after the commit finds them already
published; a dropped connection is retried once and an unreachable Redis never fails the
commit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from celery.signals import before_task_publish
from flask_socketio import SocketIO
from redis.connection import AbstractConnection
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from helpdesk import events
from helpdesk.coalesce import RedisGate
from helpdesk.socketqueue import RedisQueue

CHANNEL = "test-event-pipeline"  # its own: Pub/Sub is the whole server's


class Trips:
    """Counts sends to Redis: one command or one whole pipeline is one round trip."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = AbstractConnection.send_packed_command

        def counted(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(conn, *args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)


def _backend(url: str) -> tuple[RedisQueue, events.SocketIOBackend]:
    """The worker's write-only emitter, as `helpdesk.wiring` builds it."""
    queue = RedisQueue(url, channel=CHANNEL, write_only=True)
    sio = SocketIO(message_queue=url, client_manager=queue, write_only=True)
    return queue, events.SocketIOBackend(sio)


def _connected(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> RedisQueue:
    """The worker's emitter in place, its connection open (its handshake is not a commit's)."""
    queue, backend = _backend(redis_url)
    monkeypatch.setattr(events._Registry, "backend", backend)
    queue._redis_connect()
    queue.redis.ping()
    return queue


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture
def listener(redis_url: str) -> Iterator[Any]:
    client = redis.Redis.from_url(redis_url)
    sub = client.pubsub(ignore_subscribe_messages=True)
    sub.subscribe(CHANNEL)
    sub.get_message(timeout=1)  # the subscription's confirmation
    yield sub
    sub.close()
    client.close()


def _received(sub: Any, count: int) -> list[str]:
    names: list[str] = []
    deadline = time.monotonic() + 5
    while len(names) < count and time.monotonic() < deadline:
        message = sub.get_message(timeout=0.2)
        if message and message["type"] == "message":
            names.append(json.loads(message["data"])["event"])
    return names


def test_a_commits_events_cost_one_round_trip_in_order(
    redis_url: str, listener: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue, backend = _backend(redis_url)
    monkeypatch.setattr(events._Registry, "backend", backend)
    queue._redis_connect()
    queue.redis.ping()  # the connection's own handshake is not the commit's
    trips = Trips(monkeypatch)
    ran: list[str] = []
    names = [f"evt.{i}" for i in range(5)]
    for name in names:
        events.publish(session, name, ["role:agent"], {"n": name})
    events.on_commit(session, lambda: ran.append("callback"), quick=True)
    events.publish(session, "evt.late", ["role:agent"], {})
    session.commit()
    assert ran == ["callback"]
    assert trips.count == 1  # six events, one pipeline
    assert _received(listener, 6) == [*names, "evt.late"]
    events.publish_now("evt.now", ["role:agent"], {})  # outside a commit: sent at once
    assert trips.count == 2
    assert _received(listener, 1) == ["evt.now"]


def test_a_plain_callback_runs_once_the_events_are_published(
    redis_url: str, listener: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue, backend = _backend(redis_url)
    monkeypatch.setattr(events._Registry, "backend", backend)
    queue._redis_connect()
    seen: list[list[str]] = []
    events.publish(session, "evt.a", ["role:agent"], {})
    events.publish(session, "evt.b", ["role:agent"], {})
    events.on_commit(session, lambda: seen.append(_received(listener, 2)))  # a slow notifier
    session.commit()
    assert seen == [["evt.a", "evt.b"]]


def test_a_task_sent_after_the_commit_finds_its_events_published(
    redis_url: str, listener: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue, backend = _backend(redis_url)
    monkeypatch.setattr(events._Registry, "backend", backend)
    queue._redis_connect()
    tasks = Celery("pipeline-test", broker="memory://")
    seen_by_task: list[list[str]] = []
    before_task_publish.connect(
        on_publish := lambda **_kw: seen_by_task.append(_received(listener, 2))
    )
    try:
        events.publish(session, "evt.a", ["role:agent"], {})
        events.publish(session, "evt.b", ["role:agent"], {})
        events.on_commit(session, lambda: tasks.send_task("helpdesk.nothing"), quick=True)
        session.commit()
    finally:
        before_task_publish.disconnect(on_publish)
    assert seen_by_task == [["evt.a", "evt.b"]]


def test_the_dispatch_gate_takes_the_events_along(
    redis_url: str, listener: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connected(redis_url, monkeypatch)
    gate = RedisGate(redis.Redis.from_url(redis_url))
    gate.redis.ping()
    trips = Trips(monkeypatch)
    sent: list[bool] = []
    events.publish(session, "evt.a", ["role:agent"], {})
    events.on_commit(
        session, lambda: gate.request("dispatch", lambda: sent.append(True)), quick=True
    )
    events.publish(session, "evt.b", ["role:agent"], {})
    session.commit()
    assert sent == [True]
    assert trips.count == 1  # the events and the gate's marks in one pipeline
    assert _received(listener, 2) == ["evt.a", "evt.b"]


def test_a_dropped_connection_is_retried_once(
    redis_url: str, listener: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue, backend = _backend(redis_url)
    monkeypatch.setattr(events._Registry, "backend", backend)
    queue._redis_connect()
    broken = queue.redis

    def fail() -> None:
        raise redis.ConnectionError("connection reset")

    pipe = broken.pipeline
    monkeypatch.setattr(broken, "pipeline", lambda **kw: _failing(pipe(**kw), fail))
    events.publish(session, "evt.a", ["role:agent"], {})
    events.publish(session, "evt.b", ["role:agent"], {})
    session.commit()
    assert queue.redis is not broken  # connected afresh for the second attempt
    assert _received(listener, 2) == ["evt.a", "evt.b"]


def _failing(pipe: Any, fail: Any) -> Any:
    pipe.execute = fail
    return pipe


def test_an_unreachable_redis_never_fails_the_commit(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = RedisQueue(
        "redis://127.0.0.1:1/0",
        channel=CHANNEL,
        write_only=True,
        redis_options={"socket_connect_timeout": 0.2},
    )
    sio = SocketIO(message_queue="redis://127.0.0.1:1/0", client_manager=queue, write_only=True)
    monkeypatch.setattr(events._Registry, "backend", events.SocketIOBackend(sio))
    ran: list[str] = []
    events.publish(session, "evt.a", ["role:agent"], {})
    events.on_commit(session, lambda: ran.append("callback"))
    session.commit()  # logged, not raised
    assert ran == ["callback"]


def test_a_dispatch_run_of_one_round_costs_two_round_trips(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = RedisGate(redis.Redis.from_url(redis_url), prefix="test:pipeline-gate:")
    gate.redis.ping()
    trips = Trips(monkeypatch)
    # Take the gate; after the round, look at the mark and release, in one script.
    assert gate.run("dispatch", lambda: 1) == 1
    assert trips.count == 2
    assert not gate.redis.exists("test:pipeline-gate:dispatch")  # released


def test_the_live_statistics_of_a_commit_take_its_events_along(
    redis_url: str, listener: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from helpdesk.supervision.livestats import Aggregator, LogEntry
    from helpdesk.supervision.stores import RedisStore

    _connected(redis_url, monkeypatch)
    store = RedisStore(redis.Redis.from_url(redis_url, decode_responses=True), "t:pipe:live:")
    store.clear()
    store.client.ping()
    stats = Aggregator(store)
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    entries = [
        LogEntry(7, at, "2026-12-01", 36, "entered", call_id=1, queue="support"),
        LogEntry(8, at, "2026-12-01", 36, "agent_state", agent_id=3, data={"to": "reserved"}),
    ]
    trips = Trips(monkeypatch)
    events.publish(session, "evt.a", ["role:agent"], {})
    events.on_commit_batched(session, stats.apply_many, entries[0])
    events.on_commit_batched(session, stats.apply_many, entries[1])
    session.commit()
    # The event, the watermark's check and both entries' writes: one round trip.
    assert trips.count == 1
    assert _received(listener, 1) == ["evt.a"]
    assert stats.queue_figures("support", "2026-12-01", at)["waiting"] == 1
    assert stats.agent_states()["reserved"] == 1
    store.clear()
