"""Business-time maths, by example and by property."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.sla.calendar import (
    BusinessCalendar,
    CalendarNeverOpen,
    holiday_dates,
    weekly_from_mapping,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")

OFFICE = weekly_from_mapping(
    {d: [["09:00", "12:00"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
)
NIGHTS = weekly_from_mapping(
    {d: [["22:00", "06:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
)


def office(tz: str = "Europe/Paris", **kw) -> BusinessCalendar:
    years = range(2024, 2030)
    country = "FR" if tz == "Europe/Paris" else "US"
    return BusinessCalendar(
        timezone=tz, weekly=OFFICE, holidays=holiday_dates(country, None, years), **kw
    )


CALENDARS = {
    "paris-office": office(),
    "ny-office": office("America/New_York"),
    "paris-nights": BusinessCalendar(timezone="Europe/Paris", weekly=NIGHTS),
    "ny-nights": BusinessCalendar(timezone="America/New_York", weekly=NIGHTS),
    "24/7": BusinessCalendar.twenty_four_seven("Europe/Paris"),
    "paris-closure": office(
        closures=(
            (datetime(2026, 3, 27, 10, tzinfo=PARIS), datetime(2026, 4, 2, 15, tzinfo=PARIS)),
        ),
        openings=(
            (datetime(2026, 3, 28, 10, tzinfo=PARIS), datetime(2026, 3, 28, 16, tzinfo=PARIS)),
        ),
    ),
}

# Instants around both daylight-saving changes of 2026 on each side of the Atlantic.
DST_EDGES = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
]

instants = st.one_of(
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(DST_EDGES).flatmap(
        lambda edge: st.integers(-4 * 86400, 4 * 86400).map(lambda s: edge + timedelta(seconds=s))
    ),
)
durations = st.integers(min_value=0, max_value=5 * 86400)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_office_hours_add_up():
    cal = office()
    # Friday 17:00 + 2 business hours = Monday 10:00 (weekend skipped).
    assert cal.add_business_seconds(paris(2026, 6, 5, 17), 7200) == paris(2026, 6, 8, 10)
    # Lunch break is closed time.
    assert cal.add_business_seconds(paris(2026, 6, 8, 11), 7200) == paris(2026, 6, 8, 14, 30)
    assert cal.business_seconds(paris(2026, 6, 8, 8), paris(2026, 6, 8, 20)) == 7.5 * 3600


def test_holidays_are_closed():
    cal = office()
    # 14 July is a public holiday in France (a Tuesday in 2026).
    assert not cal.is_open(paris(2026, 7, 14, 10))
    assert cal.add_business_seconds(paris(2026, 7, 13, 17), 7200) == paris(2026, 7, 15, 10)


def test_overnight_range_crosses_midnight():
    cal = CALENDARS["paris-nights"]
    assert cal.is_open(paris(2026, 6, 8, 23)) and cal.is_open(paris(2026, 6, 9, 5, 59))
    assert not cal.is_open(paris(2026, 6, 9, 6)) and not cal.is_open(paris(2026, 6, 9, 12))
    assert cal.add_business_seconds(paris(2026, 6, 9, 12), 3 * 3600) == paris(2026, 6, 10, 1)


def test_dst_spring_forward_night_is_an_hour_shorter():
    cal = CALENDARS["paris-nights"]
    # The night of 28-29 March 2026 loses an hour: 22:00-06:00 is 7 hours long.
    night = cal.business_seconds(paris(2026, 3, 28, 12), paris(2026, 3, 29, 12))
    assert night == 7 * 3600
    autumn = cal.business_seconds(paris(2026, 10, 24, 12), paris(2026, 10, 25, 12))
    assert autumn == 9 * 3600


def test_closures_and_exceptional_openings():
    cal = CALENDARS["paris-closure"]
    assert not cal.is_open(paris(2026, 3, 30, 10))
    assert cal.is_open(paris(2026, 3, 28, 11))  # a Saturday opened exceptionally
    assert not cal.is_open(paris(2026, 3, 28, 17))
    assert cal.is_open(paris(2026, 4, 2, 15, 30))


def test_twenty_four_seven():
    cal = CALENDARS["24/7"]
    start = paris(2026, 3, 28, 12)
    # 24 real hours, across the spring-forward night: 13:00 local the next day.
    assert cal.add_business_seconds(start, 86400) == paris(2026, 3, 29, 13)
    assert cal.next_close(start) is None


def test_never_open_calendar_raises():
    with pytest.raises(CalendarNeverOpen):
        BusinessCalendar(timezone="UTC").add_business_seconds(paris(2026, 1, 1), 10)


def test_naive_datetimes_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        office().add_business_seconds(datetime(2026, 1, 1), 10)


def test_weekly_mapping_validation():
    with pytest.raises(ValueError, match="unknown weekday"):
        weekly_from_mapping({"monday": []})
    with pytest.raises(ValueError):
        weekly_from_mapping({"mon": [["25:00", "26:00"]]})


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(CALENDARS)), start=instants, seconds=durations)
def test_adding_then_measuring_gives_the_seconds_back(name, start, seconds):
    cal = CALENDARS[name]
    due = cal.add_business_seconds(start, seconds)
    assert due >= start
    assert cal.business_seconds(start, due) == pytest.approx(seconds, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(CALENDARS)), start=instants, seconds=durations)
def test_due_dates_never_land_in_a_closed_period(name, start, seconds):
    cal = CALENDARS[name]
    due = cal.add_business_seconds(start, seconds)
    if seconds == 0:
        assert cal.is_open(due)
    else:
        # Open just before the due instant (it may be the closing instant itself).
        assert cal.is_open(due - timedelta(microseconds=1))


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(CALENDARS)), a=instants, b=instants, c=instants)
def test_measure_is_additive(name, a, b, c):
    a, b, c = sorted((a, b, c))
    cal = CALENDARS[name]
    assert cal.business_seconds(a, c) == pytest.approx(
        cal.business_seconds(a, b) + cal.business_seconds(b, c), abs=1e-6
    )


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(CALENDARS)), start=instants, s1=durations, s2=durations)
def test_adding_in_two_steps_equals_one(name, start, s1, s2):
    cal = CALENDARS[name]
    one = cal.add_business_seconds(start, s1 + s2)
    two = cal.add_business_seconds(cal.add_business_seconds(start, s1), s2)
    if s1 and s2:
        assert one == two
    else:
        assert cal.business_seconds(start, one) == pytest.approx(s1 + s2, abs=1e-6)


def test_holiday_dates_by_region():
    alsace = holiday_dates("FR", "Alsace", [2026])
    assert date(2026, 12, 26) in alsace  # Saint Stephen's Day, Alsace-Moselle only
    assert date(2026, 12, 26) not in holiday_dates("FR", None, [2026])
