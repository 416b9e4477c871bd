"""Bulk data for the SLA benchmark: a million open tickets, each with its SLA clocks.

People and customers come from the foundation builder (`bench.datagen`); tickets are all unresolved
(a quarter `new`, the rest `open`) and every one has two clocks under one policy on an office-hours
calendar with French public holidays:

- `resolution`, running;
- `first_response`, running on new tickets and met (stopped, nothing left to check) on open ones.

A running clock is built the way `helpdesk.sla.clock` leaves it after its last start or resume:
`elapsed_seconds` of business time used before `running_since`, `due_at` and `at_risk_at` computed
from `running_since` with the calendar, `at_risk_notified` set once `at_risk_at` has passed, and
`next_check_at` at the next of the two still ahead. Every deadline lies after `NOW`, so nothing is
due until the benchmark makes a chosen set of clocks fall due (`due_values`).

Deadlines for two million clocks are placed with `Timeline`, the calendar's open intervals over the
benchmark's span with their running total of open seconds: one bisection per deadline instead of a
walk through the calendar. A sample is checked against `BusinessCalendar.add_business_seconds`
itself, and the build reports any difference.
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from tqdm import tqdm

from bench import datagen
from bench.datagen import NOW, SEED, Layout, Sizes, _Copier
from helpdesk.sla.calendar import BusinessCalendar, holiday_dates, weekly_from_mapping

OFFICE_HOURS = {
    d: [["09:00", "12:00"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}
TIMEZONE = "Europe/Paris"
HOUR = 3600
# The demo's standard policy (helpdesk/demo.py), business seconds per priority and metric.
TARGETS = {
    "low": {"first_response": 8 * HOUR, "next_response": 16 * HOUR, "resolution": 40 * HOUR},
    "normal": {"first_response": 4 * HOUR, "next_response": 8 * HOUR, "resolution": 24 * HOUR},
    "high": {"first_response": 2 * HOUR, "next_response": 4 * HOUR, "resolution": 12 * HOUR},
    "urgent": {"first_response": HOUR, "next_response": 2 * HOUR, "resolution": 4 * HOUR},
}
ESCALATIONS = [
    {"on": "at_risk", "actions": [{"type": "notify_assignee"}]},
    {"on": "breached", "actions": [{"type": "notify_assignee"}, {"type": "notify_supervisors"}]},
]
AT_RISK_RATIO = 0.8
POLICY_ID = 1
CALENDAR_ID = 1
MAX_DUE = 1_000  # the largest number of clocks the benchmark makes fall due at once
SLA_TABLES = ("tickets", "sla_clocks")


def office_calendar(now: datetime = NOW) -> BusinessCalendar:
    """The calendar as `helpdesk.sla.service.calendar_of` builds it from the stored row."""
    return BusinessCalendar(
        timezone=TIMEZONE,
        weekly=weekly_from_mapping(OFFICE_HOURS),
        holidays=holiday_dates("FR", None, range(now.year - 1, now.year + 3)),
    )


class Timeline:
    """Open time of a calendar over [start, end) as a running total, for placing many deadlines.

    `cum(t)` is the open time between `start` and `t`; `at(c)` the instant at which that total
    reaches `c` (inside an open interval or at its closing instant), so that for s > 0
    `at(cum(t) + s)` is `calendar.add_business_seconds(t, s)`.
    """

    def __init__(self, calendar: BusinessCalendar, start: datetime, end: datetime) -> None:
        self.intervals = calendar.open_intervals(start, end)
        self.starts = [s for s, _ in self.intervals]
        self.cum_start: list[float] = []
        self.cum_end: list[float] = []
        total = 0.0
        for s, e in self.intervals:
            self.cum_start.append(total)
            total += (e - s).total_seconds()
            self.cum_end.append(total)

    def cum(self, at: datetime) -> float:
        i = bisect.bisect_right(self.starts, at) - 1
        if i < 0:
            return 0.0
        s, e = self.intervals[i]
        return self.cum_start[i] + (min(at, e) - s).total_seconds()

    def at(self, total: float) -> datetime:
        i = min(bisect.bisect_left(self.cum_end, total), len(self.intervals) - 1)
        return self.intervals[i][0] + timedelta(seconds=total - self.cum_start[i])


def timeline(calendar: BusinessCalendar) -> Timeline:
    return Timeline(calendar, NOW - timedelta(days=120), NOW + timedelta(days=240))


@dataclass(frozen=True)
class ClockTimes:
    """The scheduling fields of one running clock."""

    started_at: datetime
    running_since: datetime
    elapsed_seconds: float
    due_at: datetime
    at_risk_at: datetime
    at_risk_notified: bool
    next_check_at: datetime


def running_clock(tl: Timeline, rng: random.Random, target: int, now_cum: float) -> ClockTimes:
    """A clock with some of its target used and its deadline still ahead, as `clock._schedule`
    leaves it: `left` business seconds remain at NOW, part of the time used was used before the
    last resume (`elapsed_seconds`) and part since (`running_since` to NOW)."""
    left = target * rng.uniform(0.02, 1.0)
    used = target - left
    since_resume = used * rng.random()
    elapsed = used - since_resume
    resumed = tl.at(now_cum - since_resume) if since_resume > 0 else NOW
    started = tl.at(now_cum - used) if used > 0 else resumed
    if elapsed > 0:
        started -= timedelta(seconds=rng.uniform(0, 3 * 86_400))  # the pause before the resume
    start_cum = tl.cum(resumed)
    due = tl.at(start_cum + target - elapsed)
    at_risk = tl.at(start_cum + max(target * AT_RISK_RATIO - elapsed, 0.0))
    notified = at_risk <= NOW
    return ClockTimes(
        started_at=started,
        running_since=resumed,
        elapsed_seconds=elapsed,
        due_at=due,
        at_risk_at=at_risk,
        at_risk_notified=notified,
        next_check_at=due if notified else at_risk,
    )


def due_values(tl: Timeline, rng: random.Random, target: int) -> dict[str, Any]:
    """A running clock that fell due a little before NOW, already flagged at risk: the next scan
    records it as breached. Returned as the columns to write."""
    now_cum = tl.cum(NOW)
    late = rng.uniform(1, 900)  # business seconds past the deadline
    since = tl.at(now_cum - late - target)
    due = tl.at(now_cum - late)
    return {
        "state": "running",
        "running_since": since,
        "started_at": since,
        "elapsed_seconds": 0.0,
        "due_at": due,
        "at_risk_at": tl.at(tl.cum(since) + target * AT_RISK_RATIO),
        "at_risk_notified": True,
        "breach_notified": False,
        "breached_at": None,
        "next_check_at": due,
    }


def designated(sizes: Sizes) -> list[int]:
    """The clocks the benchmark makes fall due: resolution clocks of random tickets, in a fixed
    random order (the first N are the N due in a run)."""
    rng = random.Random(SEED + 10)
    count = min(MAX_DUE, sizes.tickets // 2)
    return [2 * t - 1 for t in rng.sample(range(1, sizes.tickets + 1), count)]


# -- rows ------------------------------------------------------------------------------------------

_PRIORITIES = datagen._Weighted(datagen.PRIORITIES)
_CHANNELS = datagen._Weighted(datagen.CHANNELS)


def _rows(layout: Layout, tl: Timeline) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(ticket row, its clock rows) for every ticket, identical on every call."""
    rng = random.Random(SEED + 20)
    sizes = layout.sizes
    now_cum = tl.cum(NOW)
    others_from = layout.heavy_customer_id + 1
    for i in range(1, sizes.tickets + 1):
        status = "new" if rng.random() < 0.25 else "open"
        priority = _PRIORITIES.draw(rng)
        targets = TARGETS[priority]
        resolution = running_clock(tl, rng, targets["resolution"], now_cum)
        created = resolution.started_at
        clocks = [_clock_row(2 * i - 1, i, "resolution", targets["resolution"], resolution)]
        first = targets["first_response"]
        if status == "new":
            c = running_clock(tl, rng, first, now_cum)
            created = min(created, c.started_at)
            clocks.append(_clock_row(2 * i, i, "first_response", first, c))
        else:
            answered = created + timedelta(seconds=rng.uniform(60, 4 * HOUR))
            clocks.append(_met_row(2 * i, i, first, created, min(answered, NOW), rng))
        ticket = (
            i,
            datagen.SUBJECTS[rng.randrange(len(datagen.SUBJECTS))],
            "Caller reported the problem; details in the notes.",
            status,
            priority,
            _CHANNELS.draw(rng),
            rng.randint(others_from, sizes.customers),
            None if status == "new" and rng.random() < 0.7 else rng.randint(1, layout.agents),
            rng.randint(1, sizes.groups),
            rng.randint(1, layout.agents),
            created,
            max(resolution.running_since, created),
            None,
            None,
        )
        yield ticket, clocks


def _clock_row(cid: int, tid: int, metric: str, target: int, t: ClockTimes) -> tuple[Any, ...]:
    return (
        cid,
        tid,
        POLICY_ID,
        metric,
        1,
        target,
        AT_RISK_RATIO,
        t.elapsed_seconds,
        t.running_since,
        "running",
        t.started_at,
        t.due_at,
        t.at_risk_at,
        None,
        None,
        t.at_risk_notified,
        False,
        t.next_check_at,
        "",
    )


def _met_row(
    cid: int, tid: int, target: int, started: datetime, stopped: datetime, rng: random.Random
) -> tuple[Any, ...]:
    return (
        cid,
        tid,
        POLICY_ID,
        "first_response",
        1,
        target,
        AT_RISK_RATIO,
        target * rng.uniform(0.05, 0.9),
        None,
        "met",
        started,
        None,
        None,
        stopped,
        None,
        False,
        False,
        None,
        "",
    )


CLOCK_COLUMNS = (
    "id",
    "ticket_id",
    "policy_id",
    "metric",
    "cycle",
    "target_seconds",
    "at_risk_ratio",
    "elapsed_seconds",
    "running_since",
    "state",
    "started_at",
    "due_at",
    "at_risk_at",
    "stopped_at",
    "breached_at",
    "at_risk_notified",
    "breach_notified",
    "next_check_at",
    "reason",
)
TICKET_COLUMNS = (
    "id",
    "subject",
    "description",
    "status",
    "priority",
    "channel",
    "requester_id",
    "assignee_id",
    "group_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "solved_at",
    "closed_at",
)


# -- loading ---------------------------------------------------------------------------------------


def check_timeline(calendar: BusinessCalendar, tl: Timeline, samples: int = 2_000) -> float:
    """The largest difference, in seconds, between `Timeline` and the calendar's own
    `add_business_seconds` over random starts and targets within the span."""
    rng = random.Random(SEED + 30)
    worst = 0.0
    for _ in range(samples):
        start = NOW - timedelta(days=rng.uniform(0, 90))
        seconds = rng.uniform(60, 60 * HOUR)
        expected = calendar.add_business_seconds(start, seconds)
        worst = max(worst, abs((tl.at(tl.cum(start) + seconds) - expected).total_seconds()))
    return worst


def build(database_url: str, sizes: Sizes, api_password: str) -> Layout:
    """Fill a freshly migrated database with people, customers, open tickets and their clocks."""
    layout = Layout.of(sizes)
    calendar = office_calendar()
    tl = timeline(calendar)
    worst = check_timeline(calendar, tl)
    tqdm.write(
        f"deadlines placed as BusinessCalendar.add_business_seconds places them "
        f"(largest difference over 2,000 samples: {worst * 1000:.3f} ms)"
    )
    with psycopg.connect(database_url) as conn:
        datagen._tune_session(conn)
        indexes = datagen._drop_secondary_indexes(conn, (*datagen.BIG_TABLES, *SLA_TABLES))
        datagen._load_people(conn, layout, api_password)
        datagen._load_customers(conn, layout)
        _load_policy(conn)
        _load_tickets_and_clocks(conn, layout, tl)
        datagen._recreate_indexes(conn, indexes)
        datagen._reset_sequences(conn)
    with psycopg.connect(database_url, autocommit=True) as conn:
        tqdm.write("VACUUM ANALYZE ...")
        conn.execute("VACUUM (ANALYZE)")
    return layout


def _load_policy(conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO sla_calendars (id, name, timezone, weekly, always_open, holiday_country,"
        " holiday_subdivision, is_default, updated_at)"
        " VALUES (%s, 'Office hours', %s, %s, false, 'FR', NULL, true, %s)",
        (CALENDAR_ID, TIMEZONE, json.dumps(OFFICE_HOURS), NOW - timedelta(days=365)),
    )
    conn.execute(
        "INSERT INTO sla_policies (id, name, position, active, calendar_id, conditions, targets,"
        " pause_statuses, at_risk_ratio, escalations)"
        " VALUES (%s, 'Standard', 100, true, %s, '{}', %s, %s, %s, %s)",
        (
            POLICY_ID,
            CALENDAR_ID,
            json.dumps(TARGETS),
            json.dumps(["pending", "on_hold"]),
            AT_RISK_RATIO,
            json.dumps(ESCALATIONS),
        ),
    )
    conn.commit()


def _load_tickets_and_clocks(conn: psycopg.Connection, layout: Layout, tl: Timeline) -> None:
    """Tickets, then clocks: the same generator twice (tickets load before the rows that
    reference them), rather than two million clocks held in memory."""
    total = layout.sizes.tickets
    _Copier(conn, "tickets", TICKET_COLUMNS, total).load(t for t, _ in _rows(layout, tl))
    _Copier(conn, "sla_clocks", CLOCK_COLUMNS, 2 * total).load(
        c for _, clocks in _rows(layout, tl) for c in clocks
    )
