"""`telephony.agent_presence.move`, which applies the presence table with a compare-and-set: what
it writes, and that a lost race (the row no longer in the state read, or no longer holding the
call) changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.auth.models import Role, User
from helpdesk.errors import APIError, Conflict
from helpdesk.extensions import db
from helpdesk.supervision.models import CallEvent
from telephony import agent_presence
from telephony.agent_presence import move
from telephony.models import AgentPresence
from telephony.presence import Event

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT)


def _row(user: User) -> AgentPresence:
    db.session.expire_all()
    row = db.session.get(AgentPresence, user.id)
    assert row is not None
    return row


def _states(user: User) -> list[tuple[str, str]]:
    rows = db.session.scalars(
        CallEvent.__table__.select()
        .with_only_columns(CallEvent.data)
        .where(CallEvent.event == "agent_state", CallEvent.agent_id == user.id)
        .order_by(CallEvent.id)
    )
    return [(d.get("previous"), d["to"]) for d in rows]


def test_a_choice_goes_through_the_table(agent: User) -> None:
    agent_presence.set_presence(db.session, user=agent, state="break", reason="lunch")
    assert (_row(agent).state, _row(agent).reason) == ("break", "lunch")
    agent_presence.set_presence(db.session, user=agent, state="available", reason="ignored")
    row = _row(agent)
    assert (row.state, row.reason) == ("available", "") and row.idle_since is not None
    assert _states(agent) == [("offline", "break"), ("break", "available")]
    with pytest.raises(APIError):
        agent_presence.set_presence(db.session, user=agent, state="on_call")


def test_the_offer_claim_and_the_calls_it_holds(agent: User) -> None:
    agent_presence.set_presence(db.session, user=agent, state="available")
    assert move(db.session, event=Event.OFFER, now=NOW, agent_id=agent.id, expected="available",
                call_id=41)  # fmt: skip
    db.session.commit()
    row = _row(agent)
    assert (row.state, row.current_call_id, row.last_offered_at) == ("reserved", 41, NOW)
    # A second claim on the same agent loses: it is no longer available.
    assert not move(db.session, event=Event.OFFER, now=NOW, agent_id=agent.id,
                    expected="available", call_id=42)  # fmt: skip
    # The agent cannot choose a state while the call rings.
    with pytest.raises(Conflict):
        agent_presence.set_presence(db.session, user=agent, state="break")
    db.session.rollback()
    # Only the call the agent holds frees them.
    assert not move(db.session, event=Event.CALLER_GONE, now=NOW, agent_id=agent.id, call_id=42)
    assert move(db.session, event=Event.CALLER_GONE, now=NOW, agent_id=agent.id, call_id=41)
    db.session.commit()
    row = _row(agent)
    assert (row.state, row.current_call_id, row.idle_since) == ("available", None, NOW)


def test_a_call_its_wrap_up_and_the_timer(agent: User) -> None:
    agent_presence.set_presence(db.session, user=agent, state="available")
    move(db.session, event=Event.OFFER, now=NOW, agent_id=agent.id, call_id=7)
    move(db.session, event=Event.ACCEPT, now=NOW, agent_id=agent.id, call_id=7)
    move(db.session, event=Event.ACCEPT, now=NOW, agent_id=agent.id, call_id=7)  # no-op
    db.session.commit()
    row = _row(agent)
    assert (row.state, row.current_call_id, row.calls_today) == ("on_call", 7, 1)
    move(db.session, event=Event.CALL_ENDED, now=NOW, agent_id=agent.id, call_id=7, wrap_up_s=30)
    db.session.commit()
    row = _row(agent)
    assert (row.state, row.current_call_id) == ("wrap_up", None)
    assert row.wrap_up_until == NOW + timedelta(seconds=30)
    # The timer ends wrap-ups that are over, not the others.
    assert not move(db.session, event=Event.WRAP_UP_OVER, now=NOW, agent_id=None)
    ended = move(db.session, event=Event.WRAP_UP_OVER, now=NOW + timedelta(seconds=31),
                 agent_id=None)  # fmt: skip
    db.session.commit()
    assert [m.agent_id for m in ended] == [agent.id]
    row = _row(agent)
    assert (row.state, row.wrap_up_until) == ("available", None)
    assert _states(agent)[-4:] == [
        ("available", "reserved"),
        ("reserved", "on_call"),
        ("on_call", "wrap_up"),
        ("wrap_up", "available"),
    ]


def test_a_row_the_session_holds_follows_the_move(agent: User) -> None:
    """The session's own presence row shows the move without being read again, and the day's
    count the database computed is read when next used; a pending change of the session goes
    to the database before the move (as the ORM's autoflush sent it)."""
    agent_presence.set_presence(db.session, user=agent, state="available")
    db.session.commit()
    held = _row(agent)
    assert held.calls_today == 0
    move(db.session, event=Event.OFFER, now=NOW, agent_id=agent.id, call_id=7)
    assert (held.state, held.current_call_id, held.last_offered_at) == ("reserved", 7, NOW)
    move(db.session, event=Event.ACCEPT, now=NOW, agent_id=agent.id, call_id=7)
    assert (held.state, held.calls_today, held.calls_day) == ("on_call", 1, "2026-12-06")
    held.endpoint = "client:desk-7"  # pending when the next move runs
    move(db.session, event=Event.CALL_ENDED, now=NOW, agent_id=agent.id, call_id=7)
    assert held.state == "wrap_up" and held not in db.session.dirty
    db.session.commit()
    row = _row(agent)
    assert (row.state, row.endpoint, row.calls_today) == ("wrap_up", "client:desk-7", 1)
