"""The wallboard never contradicts itself: its agent counts are those of its agent table, and an
interval never shows more calls answered or abandoned than offered, live or in the report."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.supervision import calllog, live
from helpdesk.supervision import service as supervision
from helpdesk.supervision.livestats import Aggregator, LogEntry, MemoryStore
from helpdesk.supervision.reports import ReportSpec, call_report
from telephony.models import CallQueue

AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def _move(id_: int, agent_id: int, to: str) -> LogEntry:
    return LogEntry(
        id=id_,
        at=AT + timedelta(seconds=id_),
        day="2026-03-04",
        slot=36,
        event="agent_state",
        agent_id=agent_id,
        data={"to": to},
    )


class _InterleavingStore(MemoryStore):
    """A shared store where another process's write lands between one process's reads and its
    writes, as it can on Redis when two web processes move the same agent at once."""

    def __init__(self) -> None:
        super().__init__()
        self.between: list[tuple[Aggregator, LogEntry]] = []

    def read(self, reads):  # type: ignore[no-untyped-def]
        found = super().read(reads)
        if self.between:
            other, entry = self.between.pop()
            other.apply(entry)
        return found


def test_agent_counts_match_the_agents_when_two_processes_move_one_agent():
    store = _InterleavingStore()
    one, two = Aggregator(store), Aggregator(store)
    one.apply(_move(1, 7, "available"))
    one.apply(_move(2, 8, "available"))
    # Process two takes agent 7's call while process one still applies the offer to 7.
    store.between.append((two, _move(4, 7, "on_call")))
    one.apply(_move(3, 7, "reserved"))
    states = [a["state"] for a in one.agents("2026-03-04", AT)]
    counts = one.agent_states()
    assert {k: v for k, v in counts.items() if v} == dict(Counter(states))
    assert sum(counts.values()) == 2
    assert counts["available"] == 1  # agent 8, the only one the table lists as available


def test_the_wallboard_counts_its_own_table(app, make_user):
    from telephony import agent_presence

    users = [make_user(Role.AGENT, languages=["fr"]) for _ in range(3)]
    for user, state in zip(users, ("available", "available", "break"), strict=True):
        agent_presence.set_presence(db.session, user=user, state=state)
    agent_presence.set_presence(db.session, user=users[1], state="offline")
    board = supervision.wallboard(db.session)
    listed = Counter(a["state"] for a in board["agents"])
    assert {k: v for k, v in board["agent_states"].items() if v} == dict(listed)
    assert board["agent_states"]["available"] == 1


@pytest.fixture
def support(app):
    db.session.add(CallQueue(name="support", label_en="Support", label_fr="Assistance", skills={}))
    db.session.add(CallQueue(name="billing", label_en="Billing", label_fr="Facturation", skills={}))
    db.session.commit()
    return db.session.scalar(select(CallQueue).where(CallQueue.name == "support"))


def _boundary(now: datetime) -> datetime:
    """The start of the current 15-minute interval, at least an interval into the local day."""
    local = now.astimezone(calllog.zone())
    start = local.replace(minute=local.minute // 15 * 15, second=0, microsecond=0)
    if start.hour == 0 and start.minute == 0:
        start += timedelta(minutes=15)
    return start.astimezone(UTC)


def test_answers_and_abandons_count_in_the_interval_the_call_was_offered(app, support):
    """Calls offered just before an interval boundary and answered or abandoned after it."""
    boundary = _boundary(utcnow())
    outcomes = ["connected", "connected", "abandoned", "callback", "connected"]
    for n, outcome in enumerate(outcomes):
        call_id = 500 + n
        entered = boundary - timedelta(seconds=10 + n)
        calllog.record(db.session, "entered", call_id=call_id, queue="support", at=entered)
        db.session.commit()
        wait = 25.0 + n
        extra = {"agent_id": 900} if outcome == "connected" else {}
        calllog.record(
            db.session,
            outcome,
            call_id=call_id,
            queue="support",
            wait_s=wait,
            at=entered + timedelta(seconds=wait),
            **extra,
        )
        db.session.commit()
    # A call moved to billing, answered there in the next interval.
    entered = boundary - timedelta(seconds=5)
    calllog.record(db.session, "entered", call_id=600, queue="support", at=entered)
    db.session.commit()
    calllog.record(
        db.session,
        "transferred",
        call_id=600,
        queue="support",
        to_queue="billing",
        since=entered.timestamp(),
        at=boundary + timedelta(seconds=5),
    )
    db.session.commit()
    calllog.record(
        db.session,
        "connected",
        call_id=600,
        queue="billing",
        agent_id=901,
        wait_s=40.0,
        at=entered + timedelta(seconds=40),
    )
    db.session.commit()

    day, slot = calllog.day_and_slot(boundary - timedelta(seconds=1))
    stats = live.current()
    assert stats is not None
    by_slot = {i["slot"]: i for i in stats.aggregator.intervals("support", day)}
    assert set(by_slot) == {slot}, "every outcome counts in the interval its call was offered in"
    assert by_slot[slot]["offered"] == 6
    assert by_slot[slot]["answered"] == 3 and by_slot[slot]["abandoned"] == 1
    for queue in ("support", "billing"):
        for interval in stats.aggregator.intervals(queue, day):
            assert interval["answered"] + interval["abandoned"] <= interval["offered"], interval

    report = call_report(db.session, ReportSpec(start_day=day, end_day=day, by="interval"))
    for row in report["rows"]:
        assert row["answered"] + row["abandoned"] <= row["entered"], row
    only = [r for r in report["rows"] if r["entered"]]
    assert len(only) == 1 and only[0]["answered"] == 4 and only[0]["abandoned"] == 1

    billing = call_report(
        db.session, ReportSpec(start_day=day, end_day=day, by="interval", queue="billing")
    )
    assert [(r["offered"], r["transferred_in"], r["answered"]) for r in billing["rows"]] == [
        (1, 1, 1)
    ]
    by_queue = call_report(db.session, ReportSpec(start_day=day, end_day=day, by="queue"))
    for row in by_queue["rows"]:
        assert row["answered"] + row["abandoned"] <= row["offered"], row
