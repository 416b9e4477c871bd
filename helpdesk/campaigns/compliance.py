"""May this contact be made now, and if not, when? The consumer-protection rules of campaigns.

Pure (no I/O, no database, no clock of its own): the campaigns side loads what is known about the
contact into a `Contact`, passes the instant, and records the `Decision` in its audit of attempts,
allowed or not, with the rules cited. The rules themselves are data in `compliance_rules`; this
module only applies them, in the callee's own time zone (taken from the number), so that an
overseas number or a DST change never moves a call outside the permitted hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers
from phonenumbers import timezone as phone_timezone

from helpdesk.campaigns import compliance_rules as tables

KINDS = ("marketing", "service")
CHANNELS = ("call", "sms", "email")
LEGAL_BASES = ("consent", "contract", "none")
DEFAULT_CENTER_TIMEZONE = "Europe/Paris"
SEARCH_DAYS = 800  # next_allowed looks this far ahead before saying "never"
JOINT_ROUNDS = 64  # several possible zones: rounds to find an instant each allows


@dataclass(frozen=True)
class Terms:
    """What the campaign is: its kind, channel, legal basis and its own (stricter) limits."""

    kind: str  # "marketing" (prospection) | "service" (non-commercial information)
    channel: str  # "call" | "sms" | "email"
    legal_basis: str  # "consent" | "contract" | "none"
    window_start: time | None = None  # the campaign's own daily window, callee's local time
    window_end: time | None = None
    max_attempts: int | None = None  # the campaign's own limit per contact (stricter only)


@dataclass(frozen=True)
class Contact:
    """Who would be contacted and what is known about them (loaded by the caller)."""

    number: str | None  # E.164
    email: str | None
    customer_id: int | None
    timezone: str | None = None  # IANA; None: from the number, else the center's
    region: str | None = None  # ISO country / French overseas code; None: from the number
    consent_at: datetime | None = None  # marketing consent on this channel, not withdrawn
    has_current_contract: bool = False
    on_do_not_call: bool = False
    sms_opted_out: bool = False
    email_unsubscribed: bool = False
    refused_at: datetime | None = None  # last refusal during a conversation with us
    attempts: tuple[datetime, ...] = ()  # earlier attempts on this channel, any campaign


@dataclass(frozen=True)
class Decision:
    """The answer, with what the audit needs to show why."""

    allowed: bool
    reason: str
    next_allowed_at: datetime | None  # UTC; None: never without a change in the facts
    rules: tuple[str, ...]
    local_time: datetime | None


@dataclass(frozen=True)
class _Plan:
    """The rules that apply to one campaign and one contact, resolved once."""

    rules: tables.ChannelRules
    region: tables.RegionRules
    zone: ZoneInfo
    windows: tuple[tuple[time, time | None], ...] | None  # end None: midnight
    max_attempts: int | None
    refusal_days: int | None
    citations: tuple[str, ...]


def check(
    terms: Terms,
    contact: Contact,
    now: datetime,
    *,
    center_timezone: str = DEFAULT_CENTER_TIMEZONE,
) -> Decision:
    """Whether `contact` may be contacted at `now` (aware UTC) under `terms`.

    A number whose zone is uncertain (its range spans several zones) must be allowed in each.
    """
    _require_aware(now, "now")
    plans = _plans(terms, contact, center_timezone)
    plan = plans[0]
    local = now.astimezone(plan.zone)
    blocked = _permanent_block(terms, contact)
    if blocked is not None:
        return Decision(False, blocked, None, _cite(plan, blocked), local)
    for each in plans:
        reason = _temporal_block(each, contact, now)
        if reason is not None:
            later = _joint_next(plans, contact, now)
            return Decision(False, reason, later, plan.citations, now.astimezone(each.zone))
    return Decision(True, "ok", now.astimezone(UTC), plan.citations, local)


def next_allowed(
    terms: Terms,
    contact: Contact,
    after: datetime,
    *,
    center_timezone: str = DEFAULT_CENTER_TIMEZONE,
) -> datetime | None:
    """The earliest instant at or after `after` (aware UTC) when `check` allows; None: never."""
    _require_aware(after, "after")
    plans = _plans(terms, contact, center_timezone)
    if _permanent_block(terms, contact) is not None:
        return None
    return _joint_next(plans, contact, after)


# --- resolving the rules -------------------------------------------------------------------


def _require_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def _validate(terms: Terms) -> None:
    if terms.kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if terms.channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}")
    if terms.legal_basis not in LEGAL_BASES:
        raise ValueError(f"legal_basis must be one of {LEGAL_BASES}")
    if terms.max_attempts is not None and terms.max_attempts < 0:
        raise ValueError("max_attempts must not be negative")


def _parse(number: str | None) -> phonenumbers.PhoneNumber | None:
    if not number:
        return None
    try:
        return phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None


def region_of(contact: Contact) -> str | None:
    """The contact's region: as given, else the number's (GP, RE… for French overseas numbers)."""
    if contact.region:
        return contact.region.upper()
    parsed = _parse(contact.number)
    if parsed is None:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    if region is None and parsed.country_code:  # outside the known ranges: the code's region
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
    return None if region in (None, "ZZ", "001") else region


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zones_of(
    contact: Contact, region: tables.RegionRules, center_timezone: str
) -> tuple[ZoneInfo, ...]:
    """The callee's possible zones: the one given; else the number's (the region's own zone
    when it is among them, else all of them: a contact must then suit each); else the region's;
    else the center's."""
    given = _zone(contact.timezone)
    if given is not None:
        return (given,)
    parsed = _parse(contact.number)
    if parsed is not None:
        names = [z for z in phone_timezone.time_zones_for_number(parsed) if z != "Etc/Unknown"]
        if region.timezone in names:
            names = [region.timezone]
        found = tuple(z for z in (_zone(n) for n in dict.fromkeys(names)) if z is not None)
        if found:
            return found
    return (_zone(region.timezone) or ZoneInfo(center_timezone),)


def _plans(terms: Terms, contact: Contact, center_timezone: str) -> tuple[_Plan, ...]:
    # A naive instant would be read in the server's zone: refuse it rather than guess.
    if contact.refused_at is not None:
        _require_aware(contact.refused_at, "refused_at")
    for attempt in contact.attempts:
        _require_aware(attempt, "attempts")
    plan = _plan(terms, contact, center_timezone)
    zones = zones_of(contact, plan.region, center_timezone)
    return tuple(replace(plan, zone=zone) for zone in zones)


def _plan(terms: Terms, contact: Contact, center_timezone: str) -> _Plan:
    _validate(terms)
    region = tables.rules_for(region_of(contact))
    rules = region.channels[(terms.kind, terms.channel)]
    citations = list(rules.citations)
    windows: tuple[tuple[time, time | None], ...] | None = rules.windows
    if terms.window_start is not None or terms.window_end is not None:
        own = (terms.window_start or time(0), terms.window_end)
        if own[1] is not None and own[1] <= own[0]:
            windows = ()
        elif rules.windows is not None and rules.binding:
            windows = tuple(_intersect(rules.windows, own))
        else:
            windows = (own,)
        citations.append(tables.CAMPAIGN_WINDOW)
    limits = [n for n in (rules.max_attempts, terms.max_attempts) if n is not None]
    if terms.max_attempts is not None and (
        rules.max_attempts is None or terms.max_attempts < rules.max_attempts
    ):
        citations.append(tables.CAMPAIGN_ATTEMPTS)
    refusal_days = rules.refusal_days if terms.kind == "marketing" else None
    return _Plan(
        rules=rules,
        region=region,
        zone=ZoneInfo(center_timezone),  # set per possible zone by _plans
        windows=windows,
        max_attempts=min(limits) if limits else None,
        refusal_days=refusal_days,
        citations=tuple(citations),
    )


def _intersect(
    windows: Iterable[tuple[time, time | None]], own: tuple[time, time | None]
) -> Iterable[tuple[time, time | None]]:
    for start, end in windows:
        lo = max(start, own[0])
        ends = [e for e in (end, own[1]) if e is not None]
        hi = min(ends) if ends else None
        if hi is None or lo < hi:
            yield (lo, hi)


def _cite(plan: _Plan, reason: str) -> tuple[str, ...]:
    extra = {
        "do_not_call": tables.POLICY_DNC,
        "opted_out": tables.POLICY_OPT_OUT,
        "unsubscribed": tables.POLICY_OPT_OUT,
    }.get(reason)
    if extra is None or extra in plan.citations:
        return plan.citations
    return (*plan.citations, extra)


# --- the checks ----------------------------------------------------------------------------


def _permanent_block(terms: Terms, contact: Contact) -> str | None:
    """A reason that no amount of waiting lifts (only a change in the facts does)."""
    if terms.channel in ("call", "sms") and not contact.number:
        return "no_number"
    if terms.channel == "email" and not contact.email:
        return "no_email"
    if contact.on_do_not_call:
        return "do_not_call"
    if terms.channel == "sms" and contact.sms_opted_out:
        return "opted_out"
    if terms.channel == "email" and contact.email_unsubscribed:
        return "unsubscribed"
    if terms.kind == "marketing":
        region = tables.rules_for(region_of(contact))
        if region.channels[(terms.kind, terms.channel)].needs_basis:
            if terms.legal_basis == "contract":
                if not contact.has_current_contract:
                    return "no_contract"
            elif terms.legal_basis != "consent" or contact.consent_at is None:
                return "no_consent"
    return None


@lru_cache(maxsize=256)
def _holidays(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    try:
        calendar = holidays.country_holidays(country, subdiv=subdiv, years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(calendar.keys())


def is_holiday(region: tables.RegionRules, day: date) -> bool:
    """A public holiday in the region's own calendar (overseas departments included)."""
    if region.holiday_country is None:
        return False
    return day in _holidays(region.holiday_country, region.holiday_subdiv, day.year)


def _refusal_free_day(plan: _Plan, contact: Contact) -> date | None:
    if plan.refusal_days is None or contact.refused_at is None:
        return None
    refused = contact.refused_at.astimezone(plan.zone).date()
    return refused + timedelta(days=plan.refusal_days + 1)


def _counted(plan: _Plan, contact: Contact, day: date) -> list[date]:
    """The attempts' local days that count against the limit on `day` (the period ends today)."""
    first = day - timedelta(days=plan.rules.attempts_days - 1)
    days = (a.astimezone(plan.zone).date() for a in contact.attempts)
    return sorted(d for d in days if d >= first)


def _day_reason(plan: _Plan, day: date) -> str | None:
    if day.weekday() not in plan.rules.days:
        return "weekend"
    if plan.rules.no_holidays and is_holiday(plan.region, day):
        return "holiday"
    return None


def _inside(moment: time, window: tuple[time, time | None]) -> bool:
    return window[0] <= moment and (window[1] is None or moment < window[1])


def _temporal_block(plan: _Plan, contact: Contact, now: datetime) -> str | None:
    local = now.astimezone(plan.zone)
    day = local.date()
    free = _refusal_free_day(plan, contact)
    if free is not None and day < free:
        return "refused_recently"
    if plan.max_attempts is not None and len(_counted(plan, contact, day)) >= plan.max_attempts:
        return "attempt_limit"
    reason = _day_reason(plan, day)
    if reason is not None:
        return reason
    wall = local.replace(tzinfo=None).time()
    if plan.windows is not None and not any(_inside(wall, w) for w in plan.windows):
        return "outside_hours"
    return None


# --- the next permitted instant ------------------------------------------------------------


def _at(zone: ZoneInfo, day: date, moment: time) -> datetime:
    """The first instant whose wall time in `zone` is `moment` on `day` (or just after a gap)."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def _not_before_days(plan: _Plan, contact: Contact, after: datetime) -> datetime:
    """Move past the refusal's quiet period and until the attempt period frees a slot."""
    instant = after.astimezone(UTC)
    free = _refusal_free_day(plan, contact)
    if free is not None:
        instant = max(instant, _at(plan.zone, free, time(0)))
    if plan.max_attempts is None:
        return instant
    for _ in range(len(contact.attempts) + 1):
        day = instant.astimezone(plan.zone).date()
        counted = _counted(plan, contact, day)
        if len(counted) < plan.max_attempts:
            return instant
        if plan.max_attempts == 0:
            return instant  # never; the window search below gives up
        oldest = counted[len(counted) - plan.max_attempts]
        freed = oldest + timedelta(days=plan.rules.attempts_days)
        instant = max(instant, _at(plan.zone, freed, time(0)))
    return instant


def _next_instant(plan: _Plan, contact: Contact, after: datetime) -> datetime | None:
    if plan.max_attempts == 0 or plan.windows == ():
        return None
    start = _not_before_days(plan, contact, after)
    first_day = start.astimezone(plan.zone).date()
    for offset in range(SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        if _day_reason(plan, day) is not None:
            continue
        windows = plan.windows if plan.windows is not None else ((time(0), None),)
        for window in sorted(windows, key=lambda w: w[0]):
            opens = _at(plan.zone, day, window[0])
            closes = (
                _at(plan.zone, day + timedelta(days=1), time(0))
                if window[1] is None
                else _at(plan.zone, day, window[1])
            )
            candidate = max(start, opens)
            if candidate < closes and _temporal_block(plan, contact, candidate) is None:
                return candidate
    return None


def _joint_next(plans: tuple[_Plan, ...], contact: Contact, after: datetime) -> datetime | None:
    """The first instant every plan allows: each plan's next instant from the latest of them,
    until they agree (any instant all allow is at or after each one's next)."""
    instant = after
    for _ in range(JOINT_ROUNDS):
        found = [_next_instant(plan, contact, instant) for plan in plans]
        if any(f is None for f in found):
            return None
        latest = max(f for f in found if f is not None)
        if all(_temporal_block(plan, contact, latest) is None for plan in plans):
            return latest
        instant = latest
    return None
