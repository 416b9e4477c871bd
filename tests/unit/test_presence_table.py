"""The agent presence table (`telephony.presence`): every allowed and every refused transition,
what each writes, and random walks of events against it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.presence import (
    CHOICES,
    MISSED_CALL,
    OPEN_STATES,
    TABLE,
    CallLink,
    Event,
    Reason,
    State,
    reason_for,
    target,
    transition,
)

S = State
E = Event

# Every allowed transition, written out: (from, event) -> to. Anything not here is refused.
ALLOWED: dict[tuple[State, Event], State] = {
    **{(s, E.CHOOSE_AVAILABLE): S.AVAILABLE for s in (S.OFFLINE, S.AVAILABLE, S.BREAK, S.WRAP_UP)},
    **{(s, E.CHOOSE_BREAK): S.BREAK for s in (S.OFFLINE, S.AVAILABLE, S.BREAK, S.WRAP_UP)},
    **{(s, E.CHOOSE_OFFLINE): S.OFFLINE for s in (S.OFFLINE, S.AVAILABLE, S.BREAK, S.WRAP_UP)},
    **{(s, E.DIAL): S.ON_CALL for s in (S.OFFLINE, S.AVAILABLE, S.BREAK, S.WRAP_UP)},
    (S.AVAILABLE, E.OFFER): S.RESERVED,
    (S.RESERVED, E.ACCEPT): S.ON_CALL,
    (S.RESERVED, E.DECLINE): S.AVAILABLE,
    (S.RESERVED, E.RING_TIMEOUT): S.BREAK,
    (S.RESERVED, E.CALLER_GONE): S.AVAILABLE,
    (S.ON_CALL, E.CALL_ENDED): S.WRAP_UP,
    (S.ON_CALL, E.LEG_FAILED): S.BREAK,
    (S.WRAP_UP, E.WRAP_UP_DONE): S.AVAILABLE,
    (S.WRAP_UP, E.WRAP_UP_OVER): S.AVAILABLE,
}

PAIRS = [(s, e) for s in State for e in Event]


@pytest.mark.parametrize(("state", "event"), [p for p in PAIRS if p in ALLOWED])
def test_allowed(state: State, event: Event) -> None:
    assert target(state, event) == ALLOWED[(state, event)]
    assert target(state.value, event) == ALLOWED[(state, event)]  # as stored


@pytest.mark.parametrize(("state", "event"), [p for p in PAIRS if p not in ALLOWED])
def test_refused(state: State, event: Event) -> None:
    assert target(state, event) is None
    assert transition(state, event) is None


def test_every_event_has_one_row() -> None:
    assert set(TABLE) == set(Event)
    assert all(row.event is event for event, row in TABLE.items())


def test_no_choice_while_a_call_rings_or_goes_on() -> None:
    for choice in CHOICES.values():
        assert target(S.RESERVED, choice) is None and target(S.ON_CALL, choice) is None
    assert {S.OFFLINE, S.AVAILABLE, S.BREAK, S.WRAP_UP} == OPEN_STATES
    assert {CHOICES[s] for s in ("available", "break", "offline")} == {
        E.CHOOSE_AVAILABLE,
        E.CHOOSE_BREAK,
        E.CHOOSE_OFFLINE,
    }


def test_what_the_call_events_do_with_the_agents_call() -> None:
    assert TABLE[E.OFFER].call is CallLink.BIND and TABLE[E.DIAL].call is CallLink.BIND
    assert TABLE[E.ACCEPT].call is CallLink.HELD
    for event in (E.DECLINE, E.RING_TIMEOUT, E.CALLER_GONE, E.CALL_ENDED, E.LEG_FAILED):
        assert TABLE[event].call is CallLink.RELEASE, event
    for event in (E.CHOOSE_AVAILABLE, E.CHOOSE_BREAK, E.CHOOSE_OFFLINE, E.WRAP_UP_DONE):
        assert TABLE[event].call is CallLink.KEEP, event


def test_timers() -> None:
    # Only the end of a call starts the wrap-up countdown; only an offer stamps the last offer;
    # only an accept counts a call taken today.
    assert [e for e, row in TABLE.items() if row.wrap_up_timer] == [E.CALL_ENDED]
    assert [e for e, row in TABLE.items() if row.offered] == [E.OFFER]
    assert [e for e, row in TABLE.items() if row.counts_call] == [E.ACCEPT]
    # The idle clock (longest idle first) starts on becoming available, and stops on a missed call.
    for event, row in TABLE.items():
        if row.target is S.AVAILABLE:
            assert row.idle is True, event
    assert TABLE[E.RING_TIMEOUT].idle is False and TABLE[E.LEG_FAILED].idle is False


def test_reasons() -> None:
    assert reason_for(TABLE[E.CHOOSE_BREAK], "lunch") == "lunch"
    assert reason_for(TABLE[E.CHOOSE_BREAK], "x" * 300) == "x" * 100
    assert reason_for(TABLE[E.CHOOSE_AVAILABLE], "ignored") == ""
    assert reason_for(TABLE[E.RING_TIMEOUT], "") == MISSED_CALL
    assert reason_for(TABLE[E.LEG_FAILED], "") == MISSED_CALL
    assert reason_for(TABLE[E.CALLER_GONE], "") is None  # left as it was
    assert TABLE[E.DECLINE].reason is Reason.CLEAR


@given(st.sampled_from(list(State)), st.lists(st.sampled_from(list(Event)), max_size=40))
def test_random_walks_follow_the_table(start: State, events: list[Event]) -> None:
    """Applying events one after the other, a refused event leaves the state as it is (the
    compare-and-set matches no row), and an allowed one lands where the table says; an agent
    is never on a call or reserved without having been offered or having dialled."""
    state = start
    holds_call = start in (S.RESERVED, S.ON_CALL)
    for event in events:
        after = target(state, event)
        if after is None:
            assert (state, event) not in ALLOWED
            continue
        assert ALLOWED[(state, event)] == after
        link = TABLE[event].call
        if link is CallLink.BIND:
            holds_call = True
        elif link in (CallLink.HELD, CallLink.RELEASE):
            assert holds_call, (state, event)
            holds_call = link is CallLink.HELD
        state = after
        assert holds_call == (state in (S.RESERVED, S.ON_CALL))
