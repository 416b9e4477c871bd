"""Agent presence as a state machine: which state may go to which, on which event, with what timers.

Pure: no database, no Flask. `telephony.agent_presence.move` applies a transition with one
compare-and-set UPDATE (the row must still be in a state the event may leave, and, for the
events about a call, still hold that call), so two processes racing on one agent change it
once. Every change of an agent's presence goes through that function and this table: reading
the table is reading every way an agent's state can change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    RESERVED = "reserved"  # a call rings on the agent's console
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"


class Event(StrEnum):
    CHOOSE_AVAILABLE = "choose_available"  # the agent (or a supervisor) sets the state
    CHOOSE_BREAK = "choose_break"
    CHOOSE_OFFLINE = "choose_offline"
    OFFER = "offer"  # the dispatch reserves the agent for a call
    ACCEPT = "accept"  # the agent takes the call ringing for them
    DECLINE = "decline"  # the agent declines it
    RING_TIMEOUT = "ring_timeout"  # it rang out: the agent is away ("missed call")
    CALLER_GONE = "caller_gone"  # the caller hung up while it rang
    DIAL = "dial"  # the agent places a call (click-to-call)
    CALL_ENDED = "call_ended"  # the agent's call ended: wrap-up starts, timed by the queue
    LEG_FAILED = "leg_failed"  # the agent's phone did not answer the bridge ("missed call")
    WRAP_UP_DONE = "wrap_up_done"  # the agent posted the wrap-up
    WRAP_UP_OVER = "wrap_up_over"  # the wrap-up timer ran out


class CallLink(StrEnum):
    """What a transition does with the presence row's `current_call_id`."""

    KEEP = "keep"  # untouched, and not part of the compare-and-set
    BIND = "bind"  # set to the call the event is about
    HELD = "held"  # must hold the call the event is about (compare-and-set); kept
    RELEASE = "release"  # must hold it (compare-and-set); cleared


class Reason(StrEnum):
    """What a transition does with `reason`, the words shown beside a break."""

    KEEP = "keep"
    CLEAR = "clear"
    GIVEN = "given"  # the reason the caller of `move` gives (a chosen break)
    MISSED = "missed"  # "missed call"


MISSED_CALL = "missed call"
OPEN_STATES = frozenset({State.OFFLINE, State.AVAILABLE, State.BREAK, State.WRAP_UP})
"""The states an agent may leave by their own choice: not while a call rings or goes on."""


@dataclass(frozen=True)
class Transition:
    """One row of the table: from `sources` on `event` to `target`, and what else is written.

    `idle` starts the idle clock that longest-idle routing reads (to available), or stops it;
    `wrap_up_timer` starts the wrap-up countdown (`wrap_up_until`), which every other
    transition clears; `offered` stamps `last_offered_at`; `counts_call` adds one to the calls
    the agent took today.
    """

    event: Event
    sources: frozenset[State]
    target: State
    call: CallLink = CallLink.KEEP
    reason: Reason = Reason.CLEAR
    idle: bool | None = None  # True: idle since now; False: not idle; None: untouched
    wrap_up_timer: bool = False
    offered: bool = False
    counts_call: bool = False


def _one(state: State) -> frozenset[State]:
    return frozenset({state})


TABLE: dict[Event, Transition] = {
    t.event: t
    for t in (
        Transition(Event.CHOOSE_AVAILABLE, OPEN_STATES, State.AVAILABLE, idle=True),
        Transition(Event.CHOOSE_BREAK, OPEN_STATES, State.BREAK, reason=Reason.GIVEN),
        Transition(Event.CHOOSE_OFFLINE, OPEN_STATES, State.OFFLINE),
        Transition(
            Event.OFFER,
            _one(State.AVAILABLE),
            State.RESERVED,
            call=CallLink.BIND,
            reason=Reason.KEEP,
            offered=True,
        ),
        Transition(
            Event.ACCEPT,
            _one(State.RESERVED),
            State.ON_CALL,
            call=CallLink.HELD,
            reason=Reason.KEEP,
            counts_call=True,
        ),
        Transition(
            Event.DECLINE, _one(State.RESERVED), State.AVAILABLE, call=CallLink.RELEASE, idle=True
        ),
        Transition(
            Event.RING_TIMEOUT,
            _one(State.RESERVED),
            State.BREAK,
            call=CallLink.RELEASE,
            reason=Reason.MISSED,
            idle=False,
        ),
        Transition(
            Event.CALLER_GONE,
            _one(State.RESERVED),
            State.AVAILABLE,
            call=CallLink.RELEASE,
            reason=Reason.KEEP,
            idle=True,
        ),
        Transition(Event.DIAL, OPEN_STATES, State.ON_CALL, call=CallLink.BIND, reason=Reason.KEEP),
        Transition(
            Event.CALL_ENDED,
            _one(State.ON_CALL),
            State.WRAP_UP,
            call=CallLink.RELEASE,
            reason=Reason.KEEP,
            wrap_up_timer=True,
        ),
        Transition(
            Event.LEG_FAILED,
            _one(State.ON_CALL),
            State.BREAK,
            call=CallLink.RELEASE,
            reason=Reason.MISSED,
            idle=False,
        ),
        Transition(
            Event.WRAP_UP_DONE, _one(State.WRAP_UP), State.AVAILABLE, reason=Reason.KEEP, idle=True
        ),
        Transition(
            Event.WRAP_UP_OVER, _one(State.WRAP_UP), State.AVAILABLE, reason=Reason.KEEP, idle=True
        ),
    )
}

CHOICES: dict[str, Event] = {
    State.AVAILABLE: Event.CHOOSE_AVAILABLE,
    State.BREAK: Event.CHOOSE_BREAK,
    State.OFFLINE: Event.CHOOSE_OFFLINE,
}
"""The states an agent (or a supervisor for them) may choose, and the event that sets each."""


def transition(state: State | str, event: Event) -> Transition | None:
    """The row that moves `state` on `event`, or None when the table refuses it."""
    row = TABLE[event]
    return row if State(state) in row.sources else None


def target(state: State | str, event: Event) -> State | None:
    """Where `state` goes on `event`; None when the event is refused in that state."""
    row = transition(state, event)
    return row.target if row is not None else None


def reason_for(row: Transition, given: str) -> str | None:
    """The `reason` the row writes (None: left as it is)."""
    if row.reason is Reason.KEEP:
        return None
    if row.reason is Reason.GIVEN:
        return given[:100]
    return MISSED_CALL if row.reason is Reason.MISSED else ""
