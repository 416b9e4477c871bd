"""Writing the call event log: telephony's service functions call these in the transaction
that changes the call or the agent, so the log holds exactly what was committed.

Each row is flushed at once (its id orders the log) and handed to the live statistics once the
transaction commits; a rollback takes the row and its live update away together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from helpdesk.db import DbSession, utcnow
from helpdesk.events import on_commit
from helpdesk.supervision.livestats import EVENTS, LogEntry
from helpdesk.supervision.models import CallEvent

DEFAULT_ZONE = "Europe/Paris"


def zone() -> ZoneInfo:
    name = current_app.config.get("HELPDESK_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_ZONE)


def day_and_slot(at: datetime, tz: ZoneInfo | None = None) -> tuple[str, int]:
    """The local day and 15-minute interval of an instant."""
    local = at.astimezone(tz or zone())
    return local.date().isoformat(), local.hour * 4 + local.minute // 15


def entry_of(row: CallEvent) -> LogEntry:
    return LogEntry(
        id=row.id,
        at=row.at,
        day=row.day,
        slot=row.slot,
        event=row.event,
        call_id=row.call_id,
        queue=row.queue,
        agent_id=row.agent_id,
        wait_s=row.wait_s,
        talk_s=row.talk_s,
        data=dict(row.data or {}),
    )


def record(
    session: DbSession,
    event: str,
    *,
    call_id: int | None = None,
    queue: str | None = None,
    agent_id: int | None = None,
    wait_s: float | None = None,
    talk_s: float | None = None,
    at: datetime | None = None,
    **data: Any,
) -> CallEvent:
    """Log one step of a call (`entered`, `connected`...) or an agent state change."""
    if event not in EVENTS:
        raise ValueError(f"unknown call event {event!r}")
    from helpdesk.supervision import live

    stats = live.current() if has_app_context() else None
    if stats is not None:
        stats.ensure_loaded(session)  # before this row exists: the rebuild reads committed rows
    when = at or utcnow()
    day, slot = day_and_slot(when)
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
        data={k: v for k, v in data.items() if v is not None},
    )
    session.add(row)
    session.flush()
    if stats is not None:
        entry = entry_of(row)
        on_commit(session, lambda: stats.committed(entry))
    return row


def agent_state(
    session: DbSession, agent_id: int, to: str, *, previous: str | None = None, reason: str = ""
) -> None:
    """An agent's state changed (available, reserved, on call, wrap-up, break, offline)."""
    if previous == to:
        return
    record(
        session, "agent_state", agent_id=agent_id, to=to, previous=previous, reason=reason or None
    )


def queue_name(session: DbSession, queue_id: int | None) -> str | None:
    from telephony.models import CallQueue

    if queue_id is None:
        return None
    queue = session.get(CallQueue, queue_id)
    return queue.name if queue else None
