"""The life of one SLA clock, as pure functions over its fields and a business calendar.

A clock accumulates business time while it runs. Its state is stored; "at risk" is derived: a
running clock that has used `at_risk_ratio` of its target. Deadlines are recomputed whenever the
clock starts, resumes or changes target, so that reading a clock never needs the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from helpdesk.sla.calendar import BusinessCalendar

METRICS = ("first_response", "next_response", "resolution")
RUNNING, PAUSED, MET, BREACHED, CANCELLED = "running", "paused", "met", "breached", "cancelled"


class ClockFields(Protocol):
    target_seconds: int
    at_risk_ratio: float
    elapsed_seconds: float
    running_since: datetime | None
    state: str
    due_at: datetime | None
    at_risk_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None
    at_risk_notified: bool
    breach_notified: bool
    next_check_at: datetime | None


@dataclass(frozen=True)
class ClockView:
    """What a person sees: the state and the business seconds left (negative once late)."""

    state: str  # running | at_risk | paused | met | breached | cancelled
    remaining_seconds: float
    due_at: datetime | None


def elapsed(clock: ClockFields, now: datetime, calendar: BusinessCalendar) -> float:
    if clock.running_since is None:
        return clock.elapsed_seconds
    return clock.elapsed_seconds + max(calendar.business_seconds(clock.running_since, now), 0.0)


def _schedule(clock: ClockFields, now: datetime, calendar: BusinessCalendar) -> None:
    """Deadlines from `now` given what is left, and the next instant the scan must look."""
    left = clock.target_seconds - clock.elapsed_seconds
    risk_left = clock.target_seconds * clock.at_risk_ratio - clock.elapsed_seconds
    if left <= 0 and clock.breached_at is not None:
        # Already late (paused, then resumed): the deadline stays when it was missed, so that
        # lists sorted by deadline keep the longest-overdue first.
        clock.due_at = clock.breached_at
    else:
        clock.due_at = calendar.add_business_seconds(now, max(left, 0.0))
    clock.at_risk_at = calendar.add_business_seconds(now, max(risk_left, 0.0))
    set_next_check(clock)


def set_next_check(clock: ClockFields) -> None:
    if (clock.state != RUNNING and clock.state != BREACHED) or clock.running_since is None:
        clock.next_check_at = None
    elif not clock.at_risk_notified:
        clock.next_check_at = clock.at_risk_at
    elif not clock.breach_notified:
        clock.next_check_at = clock.due_at
    else:
        clock.next_check_at = None


def start(clock: ClockFields, now: datetime, calendar: BusinessCalendar) -> None:
    clock.state = RUNNING
    clock.running_since = now
    clock.stopped_at = None
    _schedule(clock, now, calendar)


def pause(clock: ClockFields, now: datetime, calendar: BusinessCalendar) -> bool:
    """Stop counting (pending on the customer); returns whether anything changed."""
    if clock.running_since is None:
        return False
    clock.elapsed_seconds = elapsed(clock, now, calendar)
    clock.running_since = None
    if clock.state == RUNNING:
        clock.state = PAUSED
    clock.due_at = clock.at_risk_at = None
    clock.next_check_at = None
    return True


def resume(clock: ClockFields, now: datetime, calendar: BusinessCalendar) -> bool:
    if clock.running_since is not None or clock.state not in (PAUSED, BREACHED):
        return False
    if clock.state == PAUSED:
        clock.state = RUNNING
    clock.running_since = now
    _schedule(clock, now, calendar)
    return True


def retarget(
    clock: ClockFields, target_seconds: int, ratio: float, now: datetime, calendar: BusinessCalendar
) -> None:
    """A new policy or priority: keep the time used, move the deadlines."""
    clock.target_seconds = target_seconds
    clock.at_risk_ratio = ratio
    if clock.running_since is not None:
        clock.elapsed_seconds = elapsed(clock, now, calendar)
        clock.running_since = now
        if clock.state == BREACHED and clock.elapsed_seconds < target_seconds:
            # The new target is looser than the time already used: no longer late.
            clock.state, clock.breached_at, clock.breach_notified = RUNNING, None, False
        _schedule(clock, now, calendar)


def replan(
    clock: ClockFields, now: datetime, before: BusinessCalendar, after: BusinessCalendar
) -> bool:
    """The calendar changed: keep the business time used under the old hours, and place the
    deadlines from now with the new ones. Returns whether the clock was running (and so moved)."""
    if clock.running_since is None:
        return False
    clock.elapsed_seconds = elapsed(clock, now, before)
    clock.running_since = now
    _schedule(clock, now, after)
    return True


def stop(clock: ClockFields, now: datetime, calendar: BusinessCalendar) -> str:
    """The target's event happened (a reply, a resolution): met or breached, for good."""
    clock.elapsed_seconds = elapsed(clock, now, calendar)
    clock.running_since = None
    clock.stopped_at = now
    if clock.state != BREACHED:
        clock.state = MET if clock.elapsed_seconds <= clock.target_seconds else BREACHED
        if clock.state == BREACHED:
            clock.breached_at = clock.breached_at or now
    clock.next_check_at = None
    return clock.state


def cancel(clock: ClockFields, now: datetime, calendar: BusinessCalendar) -> None:
    clock.elapsed_seconds = elapsed(clock, now, calendar)
    clock.running_since = None
    clock.stopped_at = now
    if clock.state not in (MET, BREACHED):
        clock.state = CANCELLED
    clock.next_check_at = None


def due_transition(clock: ClockFields, now: datetime) -> str | None:
    """What the breach scan must record now: "breached", "at_risk" or nothing."""
    if clock.running_since is None:
        return None
    if not clock.breach_notified and clock.due_at is not None and now >= clock.due_at:
        return "breached"
    if not clock.at_risk_notified and clock.at_risk_at is not None and now >= clock.at_risk_at:
        return "at_risk"
    return None


def record_transition(clock: ClockFields, transition: str, now: datetime) -> None:
    if transition == "breached":
        clock.state = BREACHED
        clock.breached_at = clock.due_at or now
        clock.breach_notified = True
        clock.at_risk_notified = True
    else:
        clock.at_risk_notified = True
    set_next_check(clock)


def view(clock: ClockFields, now: datetime, calendar: BusinessCalendar) -> ClockView:
    used = elapsed(clock, now, calendar)
    remaining = clock.target_seconds - used
    state = clock.state
    if state == RUNNING and remaining <= 0:
        state = BREACHED
    elif state == RUNNING and used >= clock.target_seconds * clock.at_risk_ratio:
        state = "at_risk"
    return ClockView(state=state, remaining_seconds=remaining, due_at=clock.due_at)
