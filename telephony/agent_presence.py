"""Agent presence in the database: `move`, the one function that changes it, and what reads it.

`move` applies a row of the pure table in `telephony.presence` with one compare-and-set UPDATE:
the row must still be in the state the caller read (or, unread, in a state the event may leave)
and, for the events about a call, still hold that call. A lost race changes nothing and says so
(an empty list), which is how two processes that both try to free or reserve one agent end up
doing it once. Each change is logged for the live statistics in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ClauseElement, case, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from helpdesk.auth.models import User
from helpdesk.db import DbSession, utcnow, write_rows
from helpdesk.errors import APIError, Conflict
from helpdesk.supervision import calllog
from telephony.floor import announce_presence, request_dispatch
from telephony.models import AgentPresence
from telephony.presence import CHOICES, CallLink, Event, State, reason_for, transition
from telephony.presence import TABLE as PRESENCE_TABLE

TABLE = AgentPresence.__table__


@dataclass(frozen=True)
class Moved:
    """An agent the transition moved, and the state it left; with `move(keep_rows=True)`, the
    row as the UPDATE left it (held here: the session's identity map holds its objects weakly)."""

    agent_id: int
    previous: str
    row: AgentPresence | None = None


def move(
    session: DbSession,
    *,
    event: Event,
    now: datetime,
    agent_id: int | None,
    expected: str | None = None,
    call_id: int | None = None,
    hand_over: int | None = None,
    reason: str = "",
    wrap_up_s: float = 0.0,
    loaded: AgentPresence | None = None,
    logged: bool = True,
    synchronize: bool = True,
    keep_rows: bool = False,
) -> list[Moved]:
    """Apply `event` to agent `agent_id` (every agent whose wrap-up is over, for that event).

    `expected` is the state the caller read: the update then happens only from that state
    (compare-and-set); without it, from any state the event may leave. `call_id` is the call
    the event is about: bound to the agent, or the one the agent must still hold (`hand_over`:
    the call that takes its place, when a callback's dial-back replaces it). A row the caller
    has loaded (`loaded`) is given the values written, without a second read; with `keep_rows`,
    the rows moved come back whole from the UPDATE and join the session as loaded, for a caller
    that shows them next (the console's answer after a wrap-up)."""
    row = PRESENCE_TABLE[event]
    if expected is not None and transition(expected, event) is None:
        return []
    sources = [State(expected)] if expected is not None else sorted(row.sources)
    where = _where(row, sources, agent_id=agent_id, call_id=call_id, now=now)
    values, plain = _values(row, now=now, call_id=call_id, reason=reason, wrap_up_s=wrap_up_s)
    if hand_over is not None and row.call is CallLink.HELD:
        # The call the agent holds becomes another (a callback: the call that dials back).
        values["current_call_id"] = plain["current_call_id"] = hand_over
    if row.counts_call:
        _count_call(values, plain, now=now, loaded=loaded)
    if keep_rows:
        statement = update(AgentPresence).where(*where).values(values)
        moved = _moved_rows(session, statement, previous=_previous(expected, sources))
    else:
        # A Core UPDATE of the table (`write_rows`), at every step of every call.
        ids = write_rows(
            session, update(TABLE).where(*where).values(values).returning(TABLE.c.user_id)
        ).scalars()
        previous = _previous(expected, sources)
        moved = [Moved(agent_id=i, previous=previous) for i in ids]
        if synchronize:
            _follow(session, moved, values, skip=loaded)
    if loaded is not None and loaded.user_id in [m.agent_id for m in moved]:
        for name, value in plain.items():
            set_committed_value(loaded, name, value)
    if logged:
        log_moves(session, event, moved, reason=reason)
    return moved


def _previous(expected: str | None, sources: list[State]) -> str:
    return expected if expected is not None else sources[0].value


def _moved_rows(session: DbSession, statement: Any, *, previous: str) -> list[Moved]:
    """Run the move's UPDATE and take the rows it moved, whole, into the session as loaded."""
    rows = session.scalars(
        statement.returning(AgentPresence).execution_options(populate_existing=True)
    ).all()
    return [Moved(agent_id=r.user_id, previous=previous, row=r) for r in rows]


def _follow(
    session: DbSession, moved: list[Moved], values: dict[str, Any], *, skip: AgentPresence | None
) -> None:
    """Rows of this session's identity map follow the UPDATE (a request that reads the agent's
    presence after the change sees it): the values written, and a value the database computed
    (the day's count) read again when next used."""
    computed = [name for name, value in values.items() if isinstance(value, ClauseElement)]
    for m in moved:
        row = session.identity_map.get(identity_key(AgentPresence, m.agent_id))
        if row is None or row is skip:
            continue
        for name, value in values.items():
            if name not in computed:
                set_committed_value(row, name, value)
        if computed:
            session.expire(row, computed)


def _count_call(
    values: dict[str, Any], plain: dict[str, Any], *, now: datetime, loaded: AgentPresence | None
) -> None:
    """The agent's calls of the day, counted in the same UPDATE (a new day starts at 1)."""
    today = now.date().isoformat()
    values["calls_today"] = case((TABLE.c.calls_day == today, TABLE.c.calls_today + 1), else_=1)
    values["calls_day"] = today
    if loaded is not None:
        same_day = loaded.calls_day == today
        plain["calls_today"] = (loaded.calls_today if same_day else 0) + 1
        plain["calls_day"] = today


def log_moves(session: DbSession, event: Event, moved: list[Moved], *, reason: str = "") -> None:
    """The call log's `agent_state` entries for these moves (the live statistics count them)."""
    to = PRESENCE_TABLE[event].target.value
    for m in moved:
        calllog.agent_state(session, m.agent_id, to, previous=m.previous, reason=reason[:100])


def _where(
    row: Any, sources: list[State], *, agent_id: int | None, call_id: int | None, now: datetime
) -> list[Any]:
    """The compare-and-set: the states the row may be in, and the call it must hold."""
    where: list[Any] = [TABLE.c.state.in_([s.value for s in sources])]
    if agent_id is not None:
        where.append(TABLE.c.user_id == agent_id)
    if row.event is Event.WRAP_UP_OVER:
        where.append(TABLE.c.wrap_up_until <= now)
    if row.call in (CallLink.HELD, CallLink.RELEASE):
        where.append(TABLE.c.current_call_id == call_id)
    return where


def _values(
    row: Any, *, now: datetime, call_id: int | None, reason: str, wrap_up_s: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns a transition writes (twice: for the UPDATE, and plain for a loaded row)."""
    values: dict[str, Any] = {"state": row.target.value, "since": now}
    values["wrap_up_until"] = now + timedelta(seconds=wrap_up_s) if row.wrap_up_timer else None
    written = reason_for(row, reason)
    if written is not None:
        values["reason"] = written
    if row.idle is not None:
        values["idle_since"] = now if row.idle else None
    if row.offered:
        values["last_offered_at"] = now
    if row.call is CallLink.BIND:
        values["current_call_id"] = call_id
    elif row.call is CallLink.RELEASE:
        values["current_call_id"] = None
    return values, dict(values)


# -- reading and choosing --------------------------------------------------------------------------


def presence_of(session: DbSession, *, user_id: int) -> AgentPresence:
    """The agent's presence row, created offline on first need."""
    presence = session.get(AgentPresence, user_id)
    if presence is None:
        presence = AgentPresence(
            user_id=user_id,
            state="offline",
            since=utcnow(),
            endpoint=f"client:agent-{user_id}",
            calls_today=0,
            calls_day="",
        )
        session.add(presence)
        session.flush()
    return presence


def presences(session: DbSession) -> list[tuple[int, str, datetime]]:
    """Every agent's presence as (user id, state, since): what the live statistics seed agents
    from when they rebuild."""
    return [(p.user_id, p.state, p.since) for p in session.scalars(select(AgentPresence))]


def set_presence(session: DbSession, *, user: User, state: str, reason: str = "") -> AgentPresence:
    """The agent (or a supervisor for them) chooses available, break or offline."""
    event = CHOICES.get(state)
    if event is None:
        raise APIError(
            "invalid state",
            code="validation_error",
            status=422,
            fields={"state": "available, break or offline"},
        )
    presence = presence_of(session, user_id=user.id)
    if transition(presence.state, event) is None:
        raise Conflict(
            f"cannot change presence while {presence.state.replace('_', ' ')}",
            code="presence_locked",
        )
    now = utcnow()
    won = move(
        session,
        event=event,
        now=now,
        agent_id=user.id,
        expected=presence.state,
        reason=reason,
        loaded=presence,
    )
    if not won:
        raise Conflict("your presence changed meanwhile; try again", code="presence_locked")
    if state == "available":
        request_dispatch(session)
    announce_presence(session, user.id, state, reason=presence.reason)
    session.commit()
    return presence


def moved_to(moved: list[Moved], agent_id: int) -> bool:
    return any(m.agent_id == agent_id for m in moved)
