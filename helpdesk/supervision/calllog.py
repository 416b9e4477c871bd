"""Writing the call event log: telephony's service functions call these in the transaction
that changes the call or the agent, so the log holds exactly what was committed.

Rows are inserted with the transaction's other changes (their ids order the log) and handed to
the live statistics together once the transaction commits; a rollback takes the rows and their
live update away together.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from flask import has_app_context
from sqlalchemy import bindparam, func, inspect, select, update

from helpdesk.db import DbSession, UTCDateTime, utcnow, write_rows
from helpdesk.events import on_commit_batched
from helpdesk.supervision import live
from helpdesk.supervision.entries import (  # re-exported: the log's clock is read from here
    DEFAULT_ZONE,
    OUTCOMES,
    counted_at,
    day_and_slot,
    entry_of,
    zone,
)
from helpdesk.supervision.livestats import EVENTS, LogEntry
from helpdesk.supervision.models import CallEvent

__all__ = [
    "DEFAULT_ZONE",
    "OUTCOMES",
    "agent_state",
    "counted_at",
    "day_and_slot",
    "entry_of",
    "record",
    "zone",
]


def record(
    session: DbSession,
    event: str,
    *,
    call_id: int | None = None,
    queue: str | None = None,
    agent_id: int | None = None,
    wait_s: float | None = None,
    talk_s: float | None = None,
    hold_s: float | None = None,
    at: datetime | None = None,
    **data: Any,
) -> CallEvent:
    """Log one step of a call (`entered`, `connected`...) or an agent state change."""
    if event not in EVENTS:
        raise ValueError(f"unknown call event {event!r}")
    stats = live.current() if has_app_context() else None
    if stats is not None:
        stats.ensure_loaded(session)  # before this row exists: the rebuild reads committed rows
    when = at or utcnow()
    day, slot = day_and_slot(counted_at(event, when, wait_s, data.get("since")))
    row = CallEvent(
        at=when,
        day=day,
        slot=slot,
        event=event,
        call_id=call_id,
        queue=queue,
        agent_id=agent_id,
        wait_s=None if wait_s is None else round(wait_s, 3),
        talk_s=None if talk_s is None else round(talk_s, 3),
        hold_s=None if hold_s is None else round(hold_s, 3),
        data={k: v for k, v in data.items() if v is not None},
    )
    session.add(row)
    if stats is not None:
        # The row gets its id when the transaction flushes; after the commit its attributes are
        # expired, so the entry is made now and only the id is read back, from the identity map.
        on_commit_batched(session, stats.rows_committed, _Pending(row, entry_of(row, id_=0)))
    return row


class _Pending:
    """A log entry whose row is not inserted yet."""

    __slots__ = ("entry", "row")

    def __init__(self, row: CallEvent, entry: LogEntry) -> None:
        self.row = row
        self.entry = entry

    def __call__(self) -> LogEntry:
        identity: tuple[Any, ...] | None = inspect(self.row).identity
        assert identity is not None, "a committed log row has an id"
        return replace(self.entry, id=int(identity[0]))


def wrap_up_ended(session: DbSession, agent_id: int, now: datetime) -> None:
    """The agent's wrap-up ended (posted, or its timer ran out): its length goes on the
    `completed` entry of the call it followed (the agent's latest, within the hour), so reports
    split AHT into talk, hold and wrap-up. One UPDATE, the entry found and its length worked out
    by the database."""
    events = CallEvent.__table__  # a Core UPDATE of the table (`write_rows`)
    latest = (
        select(events.c.id)
        .where(
            events.c.event == "completed",
            events.c.agent_id == agent_id,
            events.c.wrap_s.is_(None),
            events.c.at >= now - timedelta(hours=1),
        )
        .order_by(events.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    seconds = _seconds_since(session.get_bind().dialect.name, events.c.at, now)
    write_rows(
        session, update(events).where(events.c.id == latest).values(wrap_s=func.round(seconds, 3))
    )


def _seconds_since(dialect: str, at: Any, now: datetime) -> Any:
    """`now - at` in seconds, never below 0, as the database computes it."""
    bound = bindparam("now", now, type_=UTCDateTime)
    if dialect == "sqlite":
        return func.max((func.julianday(bound) - func.julianday(at)) * 86400.0, 0.0)
    return func.greatest(func.extract("epoch", bound - at), 0)


def agent_state(
    session: DbSession, agent_id: int, to: str, *, previous: str | None = None, reason: str = ""
) -> None:
    """An agent's state changed (available, reserved, on call, wrap-up, break, offline)."""
    if previous == to:
        return
    record(
        session, "agent_state", agent_id=agent_id, to=to, previous=previous, reason=reason or None
    )
