"""SLA clocks follow the ticket: started by policy, paused, resumed, stopped, scanned, escalated.

The ticket service calls `on_created`, `on_changed` and `on_comment` inside its own transaction,
so clocks and the ticket change commit together; every clock transition is written to the ticket's
history and published live after commit.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk import caches
from helpdesk.customers.models import CustomerTag
from helpdesk.db import DbSession, bulk_insert, utcnow
from helpdesk.errors import Conflict, ValidationFailed
from helpdesk.events import FEED_SLA, publish
from helpdesk.sla import clock as clk
from helpdesk.sla.calendar import (
    BusinessCalendar,
    CalendarNeverOpen,
    holiday_dates,
    weekly_from_mapping,
)
from helpdesk.sla.models import (
    CalendarException,
    CalendarModel,
    SlaClock,
    SlaEscalation,
    SlaPolicy,
)
from helpdesk.sla.rules import PolicyRule, TicketFacts, choose

if TYPE_CHECKING:
    from helpdesk.tickets.models import Ticket

from helpdesk.tickets.models import TicketChange

log = logging.getLogger(__name__)
_Hook = TypeVar("_Hook", bound=Callable[..., None])

MAX_SCHEDULE = 60
_CALENDARS: dict[tuple[int, Any, int], BusinessCalendar] = {}


# -- calendars ---------------------------------------------------------------------------------


def calendar_of(model: CalendarModel) -> BusinessCalendar:
    """The pure calendar for a stored one, cached until the row or its exceptions change."""
    key = (model.id, model.updated_at, len(model.exceptions))
    cached = _CALENDARS.get(key)
    if cached is not None:
        return cached
    cal = _build_calendar(model)
    if len(_CALENDARS) > 256:
        _CALENDARS.clear()
    _CALENDARS[key] = cal
    return cal


def _build_calendar(model: CalendarModel) -> BusinessCalendar:
    now = utcnow()
    holidays = (
        holiday_dates(
            model.holiday_country, model.holiday_subdivision, range(now.year - 1, now.year + 3)
        )
        if model.holiday_country
        else frozenset()
    )
    return BusinessCalendar(
        timezone=model.timezone,
        weekly=weekly_from_mapping(model.weekly or {}),
        holidays=holidays,
        closures=tuple((e.starts_at, e.ends_at) for e in model.exceptions if e.kind == "closure"),
        openings=tuple((e.starts_at, e.ends_at) for e in model.exceptions if e.kind == "opening"),
        always_open=model.always_open,
    )


def default_calendar(session: DbSession) -> CalendarModel | None:
    found: CalendarModel | None = session.scalar(
        select(CalendarModel).order_by(CalendarModel.is_default.desc(), CalendarModel.id).limit(1)
    )
    return found


# Every call asks whether the center, and the chosen queue, is open; the calendars change a few
# times a year: cached per process (by id, None for the default one), cleared on the commit of
# a change to a calendar or its exceptions (helpdesk/caches.py).
caches.watch("business_calendars", CalendarModel, CalendarException, ttl_s=60.0)


def is_open(session: DbSession, at: datetime | None = None, calendar_id: int | None = None) -> bool:
    """Whether the call center is open (the telephony side asks this); open without a calendar."""

    def load() -> BusinessCalendar | None:
        model = (
            session.get(CalendarModel, calendar_id) if calendar_id else default_calendar(session)
        )
        return calendar_of(model) if model is not None else None

    calendar = caches.cached("business_calendars", calendar_id or None, load)
    return True if calendar is None else calendar.is_open(at or utcnow())


class ExceptionFields(Protocol):
    """A closure or exceptional opening as given to `save_calendar` (the API's body rows)."""

    @property
    def kind(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def label(self) -> str: ...


def check_calendar(
    *,
    timezone: str,
    weekly: dict[str, list[list[str]]],
    always_open: bool,
    holiday_country: str | None,
    holiday_subdivision: str | None,
    exceptions: Sequence[ExceptionFields],
) -> dict[str, str]:
    """The reasons a calendar cannot be saved, by field (empty when it can).

    A calendar that is never open is refused: a policy on it could place no deadline, and
    creating a ticket under that policy would fail.
    """
    errors: dict[str, str] = {}
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = "not an IANA timezone (e.g. Europe/Paris)"
    try:
        weekly_from_mapping(weekly)
    except ValueError as exc:
        errors["weekly"] = str(exc)
    else:
        if not always_open and not any(weekly.values()):
            errors["weekly"] = "no opening hours: give at least one range, or set always_open"
    for i, exc_in in enumerate(exceptions):
        if exc_in.ends_at <= exc_in.starts_at:
            errors[f"exceptions.{i}.ends_at"] = "must be after starts_at"
    if holiday_country:
        try:
            holiday_dates(holiday_country, holiday_subdivision, [utcnow().year])
        except (NotImplementedError, KeyError, ValueError) as exc:
            errors["holiday_country"] = f"unknown country or subdivision: {exc}"
    return errors


def save_calendar(
    session: DbSession,
    calendar: CalendarModel,
    *,
    name: str,
    timezone: str,
    weekly: dict[str, list[list[str]]],
    always_open: bool,
    holiday_country: str | None,
    holiday_subdivision: str | None,
    is_default: bool,
    exceptions: Sequence[ExceptionFields],
) -> CalendarModel:
    """Create or replace a calendar, and re-plan the running clocks that count time with it.

    The API and the console both save through here. Time already used by a running clock stays
    what the old hours made it; its deadlines are placed again with the new hours, in the same
    transaction as the edit, and the clocks are published after the commit. Raises
    `ValidationFailed` (by field) or `Conflict` (the name is taken).
    """
    errors = check_calendar(
        timezone=timezone,
        weekly=weekly,
        always_open=always_open,
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
        exceptions=exceptions,
    )
    if errors:
        raise ValidationFailed("invalid calendar", fields=errors)
    clash = session.scalar(
        select(CalendarModel.id).where(
            CalendarModel.name == name, CalendarModel.id != (calendar.id or 0)
        )
    )
    if clash:
        raise Conflict("a calendar with this name exists", fields={"name": "already taken"})
    now = utcnow()
    before = calendar_of(calendar) if calendar.id else None
    old_default = default_calendar(session)
    before_default = calendar_of(old_default) if old_default is not None else None
    if is_default:
        for other in session.scalars(select(CalendarModel).where(CalendarModel.is_default)):
            other.is_default = False
    calendar.name = name
    calendar.timezone = timezone
    calendar.weekly = weekly
    calendar.always_open = always_open
    calendar.holiday_country = holiday_country
    calendar.holiday_subdivision = holiday_subdivision
    calendar.is_default = is_default
    calendar.exceptions = [
        CalendarException(kind=e.kind, starts_at=e.starts_at, ends_at=e.ends_at, label=e.label)
        for e in exceptions
    ]
    calendar.updated_at = now
    session.add(calendar)
    session.flush()
    for key in [k for k in _CALENDARS if k[0] == calendar.id]:
        del _CALENDARS[key]
    try:
        if before is not None:
            _replan(session, calendar.id, before, calendar_of(calendar), now)
        new_default = default_calendar(session)
        if calendar.id in (getattr(old_default, "id", None), getattr(new_default, "id", None)):
            # Clocks whose policy was deleted count time with the default calendar.
            _replan(
                session,
                None,
                before_default or BusinessCalendar.twenty_four_seven(),
                calendar_of(new_default) if new_default else BusinessCalendar.twenty_four_seven(),
                now,
            )
    except CalendarNeverOpen as exc:
        session.rollback()
        raise ValidationFailed(
            "invalid calendar", fields={"exceptions": f"the calendar is never open: {exc}"}
        ) from exc
    session.commit()
    return calendar


def _replan(
    session: DbSession,
    calendar_id: int | None,
    before: BusinessCalendar,
    after: BusinessCalendar,
    now: datetime,
) -> int:
    """Move the deadlines of the running clocks of the calendar's policies (`None`: the clocks
    without a policy); publish each ticket's moved clocks. Returns how many moved."""
    from helpdesk.tickets.models import Ticket

    stmt = select(SlaClock).where(SlaClock.running_since.is_not(None))
    if calendar_id is None:
        stmt = stmt.where(SlaClock.policy_id.is_(None))
    else:
        stmt = stmt.join(SlaPolicy, SlaPolicy.id == SlaClock.policy_id).where(
            SlaPolicy.calendar_id == calendar_id
        )
    moved: dict[int, list[SlaClock]] = {}
    for c in session.scalars(stmt.order_by(SlaClock.id)):
        if clk.replan(c, now, before, after):
            moved.setdefault(c.ticket_id, []).append(c)
    if not moved:
        return 0
    session.flush()
    for ticket in session.scalars(
        select(Ticket).where(Ticket.id.in_(list(moved))).options(lazyload("*"))
    ):
        _publish(session, ticket, moved[ticket.id], now, after)
    return sum(len(v) for v in moved.values())


# -- policies ------------------------------------------------------------------------------------


def _facts(session: DbSession, ticket: Ticket, rules: Sequence[PolicyRule]) -> TicketFacts:
    """What the rules look at; the customer's tags are read only when a rule asks for them."""
    tags: frozenset[str] = frozenset()
    if any(rule.conditions.get("customer_tags") for rule in rules):
        tags = frozenset(
            session.scalars(
                select(CustomerTag.tag).where(CustomerTag.customer_id == ticket.requester_id)
            )
        )
    return TicketFacts(
        priority=ticket.priority.value,
        channel=ticket.channel.value,
        group_id=ticket.group_id,
        customer_tags=tags,
    )


# Every new ticket is matched against the active policies, which change a few times a year:
# cached per process and cleared on the commit of any change to a policy (helpdesk/caches.py).
caches.watch("sla_policies", SlaPolicy, ttl_s=60.0)


def _rules(session: DbSession) -> tuple[PolicyRule, ...]:
    def load() -> tuple[PolicyRule, ...]:
        return tuple(
            PolicyRule(p.id, p.name, p.position, p.conditions, p.targets)
            for p in session.scalars(select(SlaPolicy).where(SlaPolicy.active))
        )

    return caches.cached("sla_policies", "active", load)


def _ticket_clocks(session: DbSession, ticket_id: int) -> list[SlaClock]:
    return list(
        session.scalars(
            select(SlaClock).where(SlaClock.ticket_id == ticket_id).order_by(SlaClock.id)
        )
    )


def _open_clock(clocks: Iterable[SlaClock], metric: str) -> SlaClock | None:
    live = [c for c in clocks if c.metric == metric and c.stopped_at is None]
    return live[-1] if live else None


def _history(
    session: DbSession, ticket: Ticket, changes: dict[str, list[Any]], note: str, now: datetime
) -> None:
    from helpdesk.tickets.models import TicketChange

    session.add(
        TicketChange(ticket_id=ticket.id, action="sla", changes=changes, note=note[:500], at=now)
    )


def _publish(
    session: DbSession,
    ticket: Ticket,
    clocks: Sequence[SlaClock],
    now: datetime,
    cal: BusinessCalendar | None,
) -> None:
    rooms = [FEED_SLA, f"ticket:{ticket.id}"]
    if ticket.assignee_id:
        rooms.append(f"user:{ticket.assignee_id}")
    payload = {
        "ticket_id": ticket.id,
        "reference": ticket.reference,
        "clocks": [serialise(c, now, cal) for c in clocks],
    }
    publish(session, "sla.updated", rooms, payload)


def apply_policy(
    session: DbSession, ticket: Ticket, *, now: datetime, why: str, new: bool = False
) -> None:
    """Choose the policy for the ticket as it is now; start or retarget its clocks (a `new`
    ticket has none yet: they are not looked for)."""
    rules = _rules(session)
    chosen = choose(rules, _facts(session, ticket, rules)) if rules else None
    if chosen is None:
        return
    rule, reason = chosen
    policy = session.get(SlaPolicy, rule.id)
    if policy is None or not policy.active:
        return  # removed since the cache was filled; its commit is clearing the cache
    clocks = [] if new else _ticket_clocks(session, ticket.id)
    cal = calendar_of(policy.calendar)
    targets: dict[str, int] = policy.targets.get(ticket.priority.value, {})
    changes: dict[str, list[Any]] = {}
    paused = ticket.status.value in policy.pause_statuses
    for metric in ("first_response", "resolution"):
        seconds = targets.get(metric)
        current = _open_clock(clocks, metric)
        if seconds is None:
            continue
        if current is None:
            if any(c.metric == metric for c in clocks) or ticket.status.value in (
                "solved",
                "closed",
            ):
                continue  # already answered / resolved once: nothing to start
            current = SlaClock(
                ticket_id=ticket.id,
                metric=metric,
                cycle=1,
                policy_id=policy.id,
                target_seconds=seconds,
                at_risk_ratio=policy.at_risk_ratio,
                started_at=now,
                elapsed_seconds=0.0,
                state=clk.RUNNING,
                at_risk_notified=False,
                breach_notified=False,
            )
            clk.start(current, now, cal)
            if paused:
                clk.pause(current, now, cal)
            session.add(current)
            clocks.append(current)
            changes[metric] = [None, f"{seconds}s"]
        elif current.target_seconds != seconds or current.policy_id != policy.id:
            changes[metric] = [f"{current.target_seconds}s", f"{seconds}s"]
            current.policy_id = policy.id
            clk.retarget(current, seconds, policy.at_risk_ratio, now, cal)
    nxt = _open_clock(clocks, "next_response")
    nxt_target = targets.get("next_response")
    if nxt is not None and nxt_target and nxt.target_seconds != nxt_target:
        changes["next_response"] = [f"{nxt.target_seconds}s", f"{nxt_target}s"]
        nxt.policy_id = policy.id
        clk.retarget(nxt, nxt_target, policy.at_risk_ratio, now, cal)
    if changes:
        _history(session, ticket, changes, f"{why}: {reason}", now)
        session.flush()
        _publish(session, ticket, clocks, now, cal)


def _policy_and_calendar(
    session: DbSession, clock: SlaClock
) -> tuple[SlaPolicy | None, BusinessCalendar]:
    policy = session.get(SlaPolicy, clock.policy_id) if clock.policy_id else None
    if policy is not None:
        return policy, calendar_of(policy.calendar)
    model = default_calendar(session)
    return None, (calendar_of(model) if model else BusinessCalendar.twenty_four_seven())


# -- hooks called by the ticket service ------------------------------------------------------------


def _guarded(hook: _Hook) -> _Hook:
    """Run an SLA hook so that its failure never costs the ticket, text or voicemail behind it.

    The hooks run inside the transaction that records the ticket or the comment. A calendar that
    cannot place a deadline (never open, or too few hours within the search horizon for a long
    target) used to raise there and roll everything back: the ticket was not created and the
    inbound text or voicemail that asked for it was lost. Now the hook runs in a savepoint; on
    failure its own work is undone, the ticket keeps no clock, its history says why, the error is
    logged, and `/healthz` names the calendar (`sla.never_open_calendars`) for the admins. A
    database that fails outright still fails the whole request: nothing could be kept then.
    """

    @functools.wraps(hook)
    def run(session: DbSession, ticket: Ticket, *args: Any, **kwargs: Any) -> None:
        try:
            with session.begin_nested():
                hook(session, ticket, *args, **kwargs)
        except DBAPIError:
            raise
        except Exception as exc:
            log.exception("SLA clocks of ticket %s not updated", ticket.reference)
            _history(
                session,
                ticket,
                {"sla": [None, "not updated"]},
                f"SLA clocks not updated ({type(exc).__name__}: {exc}); an administrator must "
                "check the policy's calendar",
                utcnow(),
            )

    return cast(_Hook, run)


def on_created(session: DbSession, ticket: Ticket) -> None:
    if _rules(session):  # no active policy: no clock to start, no savepoint to open
        _created(session, ticket)


@_guarded
def _created(session: DbSession, ticket: Ticket) -> None:
    apply_policy(session, ticket, now=ticket.created_at, why="ticket created", new=True)


POLICY_FACTS = frozenset({"priority", "group_id", "requester_id", "channel"})


def on_changed(
    session: DbSession, ticket: Ticket, diff: dict[str, list[Any]], now: datetime
) -> None:
    """Status changes move the ticket's clocks (if it has any); a change of what policies look at
    chooses again (if there are policies). Each part runs guarded only when it has work."""
    clocks = _ticket_clocks(session, ticket.id) if "status" in diff else []
    retarget = bool(diff.keys() & POLICY_FACTS) and bool(_rules(session))
    if clocks or retarget:
        _changed(session, ticket, diff, now, clocks=clocks, retarget=retarget)


@_guarded
def _changed(
    session: DbSession,
    ticket: Ticket,
    diff: dict[str, list[Any]],
    now: datetime,
    *,
    clocks: list[SlaClock],
    retarget: bool,
) -> None:
    if clocks:
        _on_status(session, ticket, diff["status"][0], diff["status"][1], now, clocks)
    if retarget:
        changed = ", ".join(sorted(diff.keys() & POLICY_FACTS))
        apply_policy(session, ticket, now=now, why=f"{changed} changed")


def _on_status(
    session: DbSession, ticket: Ticket, old: str, new: str, now: datetime, clocks: list[SlaClock]
) -> None:
    changes: dict[str, list[Any]] = {}
    cal: BusinessCalendar | None = None
    for c in clocks:
        policy, cal = _policy_and_calendar(session, c)
        pausing = policy.pause_statuses if policy else ["pending", "on_hold"]
        before = c.state
        if new in ("solved", "closed"):
            if c.stopped_at is None:
                clk.stop(c, now, cal)
        elif c.metric == "resolution" and old == "solved" and c.stopped_at is not None:
            # Reopened: the resolution clock carries on from the time it had used.
            c.stopped_at = None
            c.state = clk.BREACHED if c.state == clk.BREACHED else clk.PAUSED
            clk.resume(c, now, cal)
        elif c.stopped_at is None and new in pausing:
            clk.pause(c, now, cal)
        elif c.stopped_at is None and new not in pausing:
            clk.resume(c, now, cal)
        if c.state != before or (before == clk.BREACHED and c.running_since is not None):
            changes[f"{c.metric}#{c.cycle}"] = [before, c.state]
    if changes:
        _history(session, ticket, changes, f"status {old} → {new}", now)
        session.flush()
        _publish(session, ticket, clocks, now, cal)


def on_comment(
    session: DbSession, ticket: Ticket, *, from_customer: bool, public: bool, now: datetime
) -> None:
    """A public comment stops or starts response clocks: a ticket without clocks has none to
    move, and no savepoint is opened for it."""
    if not public:
        return
    clocks = _ticket_clocks(session, ticket.id)
    if clocks:
        _commented(session, ticket, clocks, from_customer=from_customer, now=now)


@_guarded
def _commented(
    session: DbSession,
    ticket: Ticket,
    clocks: list[SlaClock],
    *,
    from_customer: bool,
    now: datetime,
) -> None:
    changes: dict[str, list[Any]] = {}
    cal: BusinessCalendar | None = None
    if from_customer:
        if _open_clock(clocks, "next_response") is None and any(
            c.metric == "first_response" and c.stopped_at is not None for c in clocks
        ):
            policy = next(
                (session.get(SlaPolicy, c.policy_id) for c in clocks if c.policy_id), None
            )
            seconds = (
                policy.targets.get(ticket.priority.value, {}).get("next_response")
                if policy
                else None
            )
            if policy is not None and seconds:
                cal = calendar_of(policy.calendar)
                cycle = 1 + max((c.cycle for c in clocks if c.metric == "next_response"), default=0)
                c = SlaClock(
                    ticket_id=ticket.id,
                    metric="next_response",
                    cycle=cycle,
                    policy_id=policy.id,
                    target_seconds=seconds,
                    at_risk_ratio=policy.at_risk_ratio,
                    started_at=now,
                    elapsed_seconds=0.0,
                    at_risk_notified=False,
                    breach_notified=False,
                )
                clk.start(c, now, cal)
                if ticket.status.value in policy.pause_statuses:
                    clk.pause(c, now, cal)
                session.add(c)
                clocks.append(c)
                changes[f"next_response#{cycle}"] = [None, c.state]
    else:
        for c in clocks:
            if c.metric in ("first_response", "next_response") and c.stopped_at is None:
                _, cal = _policy_and_calendar(session, c)
                before = c.state
                clk.stop(c, now, cal)
                changes[f"{c.metric}#{c.cycle}"] = [before, c.state]
    if changes:
        _history(
            session, ticket, changes, "customer wrote" if from_customer else "agent replied", now
        )
        session.flush()
        _publish(session, ticket, clocks, now, cal)


# -- reading ---------------------------------------------------------------------------------------


def serialise(c: SlaClock, now: datetime, cal: BusinessCalendar | None = None) -> dict[str, Any]:
    """A clock as the console and API show it, in business time: `elapsed_seconds` is the time
    used up to `now` (frozen while paused or stopped), `remaining_seconds` what is left."""
    used = c.elapsed_seconds
    if cal is None:
        remaining = c.target_seconds - c.elapsed_seconds
        if c.running_since is not None and c.due_at is not None:
            # Without the calendar at hand, wall time to the deadline is an upper bound.
            remaining = (c.due_at - now).total_seconds()
            used = max(c.target_seconds - remaining, c.elapsed_seconds)
        state = c.state
    else:
        v = clk.view(c, now, cal)
        remaining, state = v.remaining_seconds, v.state
        used = c.target_seconds - remaining  # the view's own elapsed time, not a second sum
    # The open periods between now and the deadline, so that a live countdown in the browser
    # stops at closing time and waits over the weekend instead of counting wall time.
    schedule: list[list[str]] = []
    if cal is not None and c.running_since is not None and c.due_at is not None and c.due_at > now:
        schedule = [
            [s.isoformat(), e.isoformat()]
            for s, e in cal.open_intervals(now, c.due_at)[:MAX_SCHEDULE]
        ]
    return {
        "metric": c.metric,
        "cycle": c.cycle,
        "state": state,
        "target_seconds": c.target_seconds,
        "elapsed_seconds": round(used, 1),
        "remaining_seconds": round(remaining, 1),
        "running": c.running_since is not None,
        "due_at": c.due_at.isoformat() if c.due_at else None,
        "at_risk_at": c.at_risk_at.isoformat() if c.at_risk_at else None,
        "stopped_at": c.stopped_at.isoformat() if c.stopped_at else None,
        "breached_at": c.breached_at.isoformat() if c.breached_at else None,
        "policy_id": c.policy_id,
        "open_periods": schedule,
    }


def clocks_for(session: DbSession, ticket_ids: Sequence[int]) -> dict[int, list[SlaClock]]:
    """Every clock of the given tickets in one query (list pages stay at a fixed query count)."""
    out: dict[int, list[SlaClock]] = {tid: [] for tid in ticket_ids}
    if ticket_ids:
        for c in session.scalars(
            select(SlaClock).where(SlaClock.ticket_id.in_(ticket_ids)).order_by(SlaClock.id)
        ):
            out[c.ticket_id].append(c)
    return out


def views_for(
    session: DbSession, ticket_ids: Sequence[int], now: datetime | None = None
) -> dict[int, list[dict[str, Any]]]:
    now = now or utcnow()
    found = clocks_for(session, ticket_ids)
    # Only the policies these clocks follow, and none read when there is no clock: the caller
    # screen shows the clocks of a caller's open tickets at every offer.
    wanted = {c.policy_id for clocks in found.values() for c in clocks if c.policy_id}
    policies = (
        {p.id: p for p in session.scalars(select(SlaPolicy).where(SlaPolicy.id.in_(wanted)))}
        if wanted
        else {}
    )
    # A clock whose policy was deleted counts time with the default calendar, as the ticket
    # hooks do; it is read only when such a clock is running.
    fallback: BusinessCalendar | None = None
    if any(
        c.running_since is not None and policies.get(c.policy_id or 0) is None
        for clocks in found.values()
        for c in clocks
    ):
        model = default_calendar(session)
        fallback = calendar_of(model) if model else BusinessCalendar.twenty_four_seven()
    out: dict[int, list[dict[str, Any]]] = {}
    for tid, clocks in found.items():
        rows = []
        for c in clocks:
            policy = policies.get(c.policy_id) if c.policy_id else None
            rows.append(serialise(c, now, calendar_of(policy.calendar) if policy else fallback))
        out[tid] = rows
    return out


# -- the breach scan -------------------------------------------------------------------------------


@dataclass
class ScanResult:
    at_risk: int = 0
    breached: int = 0
    examined: int = 0


def scan(session: DbSession, *, now: datetime | None = None, limit: int = 1000) -> ScanResult:
    """Record the clocks that became at risk or breached, and fire their escalations once.

    Reads only clocks whose `next_check_at` has passed (an index range). On PostgreSQL the rows
    are locked with SKIP LOCKED, so concurrent scanners share the work instead of repeating it;
    everywhere, the notified flags are set by compare-and-set and the escalation log has a unique
    key, so a clock escalates once whatever runs at the same time.
    """
    from helpdesk.tickets.models import Ticket

    now = now or utcnow()
    result = ScanResult()
    # The due clocks and their tickets in one statement: a second SELECT by a thousand ids
    # would cost a round trip and the ids' array besides.
    stmt = (
        select(SlaClock, Ticket)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(SlaClock.next_check_at <= now)
        .order_by(SlaClock.next_check_at)
        .limit(limit)
        .options(lazyload("*"))
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=SlaClock, skip_locked=True)
    rows = session.execute(stmt).all()
    clocks = [clock for clock, _ in rows]
    tickets = {ticket.id: ticket for _, ticket in rows}
    result.examined = len(clocks)
    policies = {p.id: p for p in session.scalars(select(SlaPolicy))} if clocks else {}
    due: dict[str, list[SlaClock]] = {"at_risk": [], "breached": []}
    for c in clocks:
        transition = clk.due_transition(c, now)
        if transition is None:
            clk.set_next_check(c)  # nothing to record: look again when something can happen
        else:
            due[transition].append(c)
    history: list[dict[str, Any]] = []
    fired: list[dict[str, Any]] = []
    for transition, batch in due.items():
        before = {c.id: c.state for c in batch}
        for c in _claim(session, batch, transition, now):
            ticket = tickets[c.ticket_id]
            policy = policies.get(c.policy_id) if c.policy_id else None
            history.append(
                {
                    "ticket_id": ticket.id,
                    "action": "sla",
                    "at": now,
                    "changes": {f"{c.metric}#{c.cycle}": [before[c.id], transition]},
                    "note": f"{c.metric.replace('_', ' ')} {transition.replace('_', ' ')}",
                }
            )
            if transition == "breached":
                result.breached += 1
            else:
                result.at_risk += 1
            fired.extend(_escalate(session, ticket, c, transition, policy, now))
            _publish(session, ticket, [c], now, calendar_of(policy.calendar) if policy else None)
    # Bulk inserts without RETURNING: a scan that finds a thousand clocks due writes them in a
    # couple of statements rather than a thousand round trips.
    if history:
        bulk_insert(session, TicketChange.__table__, history)
    if fired:
        bulk_insert(session, SlaEscalation.__table__, fired)
    session.commit()
    return result


_TRANSITION_FIELDS = (
    "state",
    "breached_at",
    "breach_notified",
    "at_risk_notified",
    "next_check_at",
)


def _claim(
    session: DbSession, batch: list[SlaClock], transition: str, now: datetime
) -> list[SlaClock]:
    """Record a transition on every clock of the batch still unflagged, in one statement.

    The UPDATE is a compare-and-set on the notified flag, so a transition happens once however
    many scanners overlap, and it writes what `clock.record_transition` would, so that the
    in-memory clocks (updated by that same function) are already in step with the rows.
    """
    if not batch:
        return []
    if transition == "breached":
        flag = SlaClock.breach_notified
        values: dict[str, Any] = {
            "state": clk.BREACHED,
            "breached_at": func.coalesce(SlaClock.due_at, now),
            "breach_notified": True,
            "at_risk_notified": True,
            "next_check_at": None,
        }
    else:
        flag = SlaClock.at_risk_notified
        values = {
            "at_risk_notified": True,
            "next_check_at": case((SlaClock.breach_notified, None), else_=SlaClock.due_at),
        }
    won = set(
        session.scalars(
            update(SlaClock)
            .where(SlaClock.id.in_([c.id for c in batch]), flag.is_(False))
            .values(values)
            .returning(SlaClock.id)
            .execution_options(synchronize_session=False)
        )
    )
    claimed = [c for c in batch if c.id in won]
    for c in claimed:
        clk.record_transition(c, transition, now)
        for key in _TRANSITION_FIELDS:
            set_committed_value(c, key, getattr(c, key))
    return claimed


def _escalate(
    session: DbSession,
    ticket: Ticket,
    c: SlaClock,
    trigger: str,
    policy: SlaPolicy | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Run the policy's rules for this trigger; returns the escalation log rows to insert."""
    from helpdesk.sla.escalations import run_actions

    rules = policy.escalations if policy else []
    default = [
        {"on": trigger, "actions": [{"type": "notify_assignee"}, {"type": "notify_supervisors"}]}
    ]
    rows: list[dict[str, Any]] = []
    for index, rule in enumerate(rules or default):
        if rule.get("on") != trigger:
            continue
        metrics = rule.get("metrics")
        if metrics and c.metric not in metrics:
            continue
        actions = list(rule.get("actions", []))
        rows.append(
            {
                "clock_id": c.id,
                "ticket_id": ticket.id,
                "trigger": trigger,
                "rule_index": index,
                "actions": actions,
                "fired_at": now,
            }
        )
        run_actions(session, ticket, c, trigger, actions, now)
    return rows
