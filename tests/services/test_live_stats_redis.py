"""The Redis store of the live statistics gives the memory store's figures, shared between
processes (two stores on one Redis stand for two processes), and the app rebuilds into it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.supervision.livestats import Aggregator, LogEntry, MemoryStore
from helpdesk.supervision.stores import RedisStore

DAY = "2026-12-01"
T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


def scripted(n: int = 400) -> list[LogEntry]:
    rng = random.Random(5)
    out: list[LogEntry] = []
    waiting: list[tuple[int, str]] = []
    talking: list[tuple[int, str, int]] = []
    for i in range(1, n + 1):
        at = T0 + timedelta(seconds=20 * i)
        slot = (8 * 60 + 20 * i // 60) // 15
        kind = i % 5
        if kind == 0:
            out.append(
                LogEntry(
                    i,
                    at,
                    DAY,
                    slot,
                    "agent_state",
                    agent_id=rng.randint(1, 30),
                    data={"to": rng.choice(["available", "on_call", "break"])},
                )
            )
        elif kind in (1, 2) or not waiting:
            q = rng.choice(["support", "billing"])
            out.append(LogEntry(i, at, DAY, slot, "entered", call_id=i, queue=q))
            waiting.append((i, q))
        elif kind == 3:
            cid, q = waiting.pop(0)
            event = "abandoned" if cid % 4 == 0 else "connected"
            out.append(
                LogEntry(
                    i,
                    at,
                    DAY,
                    slot,
                    event,
                    call_id=cid,
                    queue=q,
                    agent_id=None if event == "abandoned" else cid % 30 + 1,
                    wait_s=rng.uniform(0, 60),
                )
            )
            if event == "connected":
                talking.append((cid, q, cid % 30 + 1))
        elif talking:
            cid, q, agent = talking.pop(0)
            out.append(
                LogEntry(
                    i,
                    at,
                    DAY,
                    slot,
                    "completed",
                    call_id=cid,
                    queue=q,
                    agent_id=agent,
                    talk_s=rng.uniform(30, 300),
                )
            )
    return out


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def test_redis_and_memory_stores_agree(redis_client):
    entries = scripted()
    memory = Aggregator(MemoryStore())
    # Two processes writing into the same Redis figures, alternately.
    first = Aggregator(RedisStore(redis_client, prefix="t:live:"))
    second = Aggregator(RedisStore(redis_client, prefix="t:live:"))
    for i, e in enumerate(entries):
        memory.apply(e)
        (first if i % 2 else second).apply(e)
    now = T0 + timedelta(hours=4)
    for q in ("support", "billing"):
        assert first.queue_figures(q, DAY, now) == memory.queue_figures(q, DAY, now)
        assert first.intervals(q, DAY) == memory.intervals(q, DAY)
    assert second.agents(DAY, now) == memory.agents(DAY, now)
    assert second.agent_states() == memory.agent_states()
    # A rebuild from the log replaces the figures and ignores entries already counted.
    assert first.rebuild(entries) == entries[-1].id
    assert not first.apply(entries[10])
    assert first.queue_figures("support", DAY, now) == memory.queue_figures("support", DAY, now)


def test_the_app_keeps_live_figures_in_redis(settings, database, redis_url):
    from dataclasses import replace

    from helpdesk.app import create_app
    from helpdesk.extensions import db
    from helpdesk.supervision import calllog, live

    app = create_app(replace(settings, REDIS_URL=redis_url))
    with app.app_context():
        stats = live.current()
        assert isinstance(stats.store, RedisStore)
        calllog.record(db.session, "entered", call_id=1, queue="support")
        db.session.commit()
        figures = stats.aggregator.queue_figures("support", live.local_today(), datetime.now(UTC))
        assert figures["entered"] == 1 and figures["waiting"] == 1
        # Another process (a new app) reads the same figures without rebuilding.
        other = live.build(app.config)
        other.ensure_loaded(db.session)
        again = other.aggregator.queue_figures("support", live.local_today(), datetime.now(UTC))
        assert again["entered"] == 1
        db.session.remove()
        db.engine.dispose()
    database.reset()


def test_moves_between_queues_agree_and_counted_entries_are_skipped_in_one_step(redis_client):
    """A transfer keeps the caller's place in time (the score moves with the member, or the
    transfer's time when it was not waiting); entries at or below the watermark are skipped
    inside the same step as the new ones."""

    def e(id_: int, event: str, **kw) -> LogEntry:
        return LogEntry(id_, T0 + timedelta(seconds=10 * id_), DAY, 32, event, **kw)

    history = [e(1, "entered", call_id=1, queue="support")]
    later = [
        e(2, "entered", call_id=2, queue="support"),
        e(3, "transferred", call_id=1, queue="support", data={"to_queue": "billing"}),
        e(4, "transferred", call_id=9, queue="support", data={"to_queue": "billing"}),
        e(5, "transferred", call_id=2, queue="support", data={}),
        e(6, "callback", call_id=7, queue="billing"),
        e(7, "connected", call_id=1, queue="billing", agent_id=4, wait_s=12.0),
        e(
            8,
            "requeued",
            call_id=1,
            queue="billing",
            agent_id=4,
            wait_s=12.0,
            data={"since": (T0 + timedelta(seconds=10)).timestamp()},
        ),
        e(9, "agent_state", agent_id=4, data={"to": "wrap_up"}),
    ]
    redis_side = Aggregator(RedisStore(redis_client, prefix="t:live:moves:"))
    memory = Aggregator(MemoryStore())
    try:
        for agg in (redis_side, memory):
            agg.rebuild(history)  # watermark 1
            assert agg.apply_many([history[0], *later]) == later
        now = T0 + timedelta(minutes=5)
        for q in ("support", "billing"):
            assert redis_side.queue_figures(q, DAY, now) == memory.queue_figures(q, DAY, now)
            assert redis_side.intervals(q, DAY) == memory.intervals(q, DAY)
        billing = memory.queue_figures("billing", DAY, now)
        assert billing["waiting"] == 2  # calls 1 and 9
        # Call 1 waits since it first entered; call 9 since its transfer.
        assert billing["longest_wait_s"] == pytest.approx((now - T0).total_seconds() - 10)
        assert memory.queue_figures("support", DAY, now)["waiting"] == 0
        assert redis_side.agent_states() == memory.agent_states()
    finally:
        redis_side.store.clear()
