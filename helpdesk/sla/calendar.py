"""Business time: when a call center is open, and how much open time lies between two instants.

Pure logic (no database, no Flask) so that it can be property-tested and benchmarked on its own.
Opening hours are local wall-clock ranges per weekday in an IANA timezone; a range whose end is not
after its start runs past midnight (22:00-06:00) and belongs to the day it starts on. Public
holidays close the ranges that start on them; closures and exceptional openings are absolute
intervals that override the weekly pattern. All instants in and out are timezone-aware.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]

# How far ahead a due date may be searched before the calendar is declared never open.
MAX_SEARCH_DAYS = 800
_WINDOW_DAYS = 7


class CalendarNeverOpen(ValueError):
    """The calendar has no open time within the search horizon."""


@dataclass(frozen=True)
class TimeRange:
    start: time
    end: time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    @classmethod
    def parse(cls, start: str, end: str) -> TimeRange:
        return cls(_parse_time(start), _parse_time(end))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _parse_time(text: str) -> time:
    if text in ("24:00", "24:00:00"):
        return time(0)
    return time.fromisoformat(text)


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly opening hours in `timezone`, minus holidays and closures, plus exceptional openings.

    `weekly[i]` holds the ranges starting on weekday i (0 = Monday).
    """

    timezone: str
    weekly: tuple[tuple[TimeRange, ...], ...] = field(default_factory=lambda: ((),) * 7)
    holidays: frozenset[date] = frozenset()
    closures: tuple[Interval, ...] = ()
    openings: tuple[Interval, ...] = ()
    always_open: bool = False
    # Per-day intervals, computed once: most due dates fall within a few days of each other.
    _days: dict[date, tuple[Interval, ...]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly needs 7 entries, Monday first")
        for interval in (*self.closures, *self.openings):
            if interval[0].tzinfo is None or interval[1].tzinfo is None:
                raise ValueError("closures and openings must be timezone-aware")
            if interval[1] <= interval[0]:
                raise ValueError("an interval must end after it starts")
        ZoneInfo(self.timezone)  # raises for an unknown zone

    @classmethod
    def twenty_four_seven(cls, timezone: str = "UTC") -> BusinessCalendar:
        return cls(timezone=timezone, always_open=True)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    # -- the open intervals ------------------------------------------------------------------

    def _day(self, day: date) -> tuple[Interval, ...]:
        cached = self._days.get(day)
        if cached is None:
            if len(self._days) > 4096:
                self._days.clear()
            cached = self._days[day] = _day_intervals(self, day)
        return cached

    def open_intervals(self, start: datetime, end: datetime) -> list[Interval]:
        """The open intervals overlapping [start, end), clipped to it, in UTC, merged, sorted."""
        _aware(start)
        _aware(end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return []
        if self.always_open:
            base: list[Interval] = [(start, end)]
        else:
            zone = self.zone
            first = start.astimezone(zone).date() - timedelta(days=1)
            last = end.astimezone(zone).date()
            base = []
            day = first
            while day <= last:
                base.extend(self._day(day))
                day += timedelta(days=1)
        merged = _merge(_clip(base, start, end))
        closed = [c for c in self.closures if c[1] > start and c[0] < end]
        if closed:
            merged = _subtract(merged, closed)
        # Exceptional openings win over closures: "closed all week except Saturday morning".
        extra = [o for o in self.openings if o[1] > start and o[0] < end]
        return _merge(merged + _clip(extra, start, end)) if extra else merged

    def is_open(self, at: datetime) -> bool:
        return bool(self.open_intervals(at, at + timedelta(microseconds=1)))

    # -- business-time arithmetic ------------------------------------------------------------

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Open time between two instants, in seconds (negative if end is before start)."""
        if end < start:
            return -self.business_seconds(end, start)
        return sum((e - s).total_seconds() for s, e in self.open_intervals(start, end))

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant at which `seconds` of open time have elapsed since `start`.

        With `seconds` > 0 the result always lies inside an open interval or at its closing
        instant; with 0 it is the first open instant at or after `start`.
        """
        _aware(start)
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        cursor = start.astimezone(UTC)
        remaining = seconds
        horizon = cursor + timedelta(days=MAX_SEARCH_DAYS)
        while cursor < horizon:
            window_end = cursor + timedelta(days=_WINDOW_DAYS)
            for s, e in self.open_intervals(cursor, window_end):
                length = (e - s).total_seconds()
                if remaining <= length:
                    return s + timedelta(seconds=remaining)
                remaining -= length
            cursor = window_end
        raise CalendarNeverOpen(f"no open time within {MAX_SEARCH_DAYS} days of {start}")

    def next_open(self, at: datetime) -> datetime:
        return self.add_business_seconds(at, 0)

    def next_close(self, at: datetime) -> datetime | None:
        """When the current open period ends (None when closed now or always open)."""
        if self.always_open and not self.closures:
            return None
        intervals = self.open_intervals(at, at + timedelta(days=_WINDOW_DAYS))
        if not intervals or intervals[0][0] > at.astimezone(UTC):
            return None
        return intervals[0][1]


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _day_intervals(calendar: BusinessCalendar, day: date) -> tuple[Interval, ...]:
    """The weekly ranges starting on local `day`, as UTC intervals (none on a holiday)."""
    if day in calendar.holidays:
        return ()
    zone = calendar.zone
    out: list[Interval] = []
    for rng in calendar.weekly[day.weekday()]:
        local_start = datetime.combine(day, rng.start, tzinfo=zone)
        end_day = day + timedelta(days=1) if rng.overnight else day
        local_end = datetime.combine(end_day, rng.end, tzinfo=zone)
        s, e = local_start.astimezone(UTC), local_end.astimezone(UTC)
        if e > s:  # a range inside the spring-forward gap is empty
            out.append((s, e))
    return tuple(out)


def _aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business-time arithmetic needs timezone-aware datetimes")


def _clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [(max(s, start), min(e, end)) for s, e in intervals if e > start and s < end]


def _merge(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    holes = _merge(holes)
    starts = [h[0] for h in holes]
    out: list[Interval] = []
    for s, e in intervals:
        i = max(bisect.bisect_right(starts, s) - 1, 0)
        cur = s
        for hs, he in holes[i:]:
            if hs >= e:
                break
            if he <= cur:
                continue
            if hs > cur:
                out.append((cur, hs))
            cur = max(cur, he)
            if cur >= e:
                break
        if cur < e:
            out.append((cur, e))
    return out


def weekly_from_mapping(hours: dict[str, list[list[str]]]) -> tuple[tuple[TimeRange, ...], ...]:
    """`{"mon": [["08:00", "12:00"], ["13:30", "18:00"]], ...}` to the calendar's weekly tuple."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    unknown = set(hours) - set(days)
    if unknown:
        raise ValueError(f"unknown weekday(s): {', '.join(sorted(unknown))}")
    weekly: list[tuple[TimeRange, ...]] = []
    for name in days:
        ranges = []
        for pair in hours.get(name, []):
            if len(pair) != 2:
                raise ValueError(f"{name}: each range is [start, end]")
            ranges.append(TimeRange.parse(pair[0], pair[1]))
        weekly.append(tuple(sorted(ranges, key=lambda r: r.start)))
    return tuple(weekly)


def holiday_dates(country: str, subdivision: str | None, years: Iterable[int]) -> frozenset[date]:
    """Public holidays from the `holidays` package, as a set of local dates."""
    import holidays as holidays_lib

    found = holidays_lib.country_holidays(country, subdiv=subdivision, years=list(years))
    return frozenset(found.keys())


def iter_days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)
