"""The rules of outbound contacts, with a fixed clock: each rule by example, then by property."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.campaigns.compliance import Contact, Decision, Terms, check, next_allowed

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
NEW_YORK = ZoneInfo("America/New_York")
CONSENT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

FR = "+33612345678"
RE = "+262692123456"
GP = "+590690123456"
US = "+12125551234"
GB = "+442079460000"
IDAHO = "+12085551234"  # a range split between Mountain (Boise) and Pacific time

CALL = Terms(kind="marketing", channel="call", legal_basis="consent")
SMS = Terms(kind="marketing", channel="sms", legal_basis="consent")


def at(zone: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """The UTC instant of a wall time in `zone`."""
    return datetime(y, mo, d, h, mi, tzinfo=zone).astimezone(UTC)


def person(number: str | None = FR, **kw) -> Contact:
    kw.setdefault("consent_at", CONSENT)
    return Contact(number=number, email="a@example.com", customer_id=1, **kw)


def decide(when: datetime, contact: Contact | None = None, terms: Terms = CALL) -> Decision:
    return check(terms, contact or person(), when)


# --- hours, days, holidays (D.223-9) -------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [
        (9, 59, False),
        (10, 0, True),
        (12, 59, True),
        (13, 0, False),
        (13, 59, False),
        (14, 0, True),
        (19, 59, True),
        (20, 0, False),
    ],
)
def test_french_call_window_edges(hour: int, minute: int, allowed: bool) -> None:
    decision = decide(at(PARIS, 2026, 12, 7, hour, minute))  # a Monday
    assert decision.allowed is allowed
    assert decision.reason == ("ok" if allowed else "outside_hours")
    assert decision.local_time == datetime(2026, 12, 7, hour, minute, tzinfo=PARIS)
    assert any("D.223-9" in rule for rule in decision.rules)


def test_outside_hours_points_at_the_next_opening() -> None:
    assert decide(at(PARIS, 2026, 12, 7, 9, 0)).next_allowed_at == at(PARIS, 2026, 12, 7, 10)
    assert decide(at(PARIS, 2026, 12, 7, 13, 30)).next_allowed_at == at(PARIS, 2026, 12, 7, 14)
    assert decide(at(PARIS, 2026, 12, 7, 20, 0)).next_allowed_at == at(PARIS, 2026, 12, 8, 10)


def test_weekend_waits_for_monday() -> None:
    decision = decide(at(PARIS, 2026, 12, 12, 11))  # Saturday
    assert (decision.allowed, decision.reason) == (False, "weekend")
    assert decision.next_allowed_at == at(PARIS, 2026, 12, 14, 10)
    assert decide(at(PARIS, 2026, 12, 13, 11)).reason == "weekend"


@pytest.mark.parametrize(
    ("day", "next_day"),
    [
        (date(2026, 5, 1), date(2026, 5, 4)),  # Labour Day, a Friday
        (date(2026, 7, 14), date(2026, 7, 15)),  # Bastille Day, a Tuesday
        (date(2026, 4, 6), date(2026, 4, 7)),  # Easter Monday
    ],
)
def test_public_holidays(day: date, next_day: date) -> None:
    decision = decide(at(PARIS, day.year, day.month, day.day, 11))
    assert (decision.allowed, decision.reason) == (False, "holiday")
    assert decision.next_allowed_at == at(PARIS, next_day.year, next_day.month, next_day.day, 10)
    assert any("L.3133-1" in rule for rule in decision.rules)


def test_an_overseas_holiday_applies_to_its_own_numbers_only() -> None:
    # 20 December, abolition of slavery in Réunion; a Monday in 2027.
    reunion = decide(at(REUNION, 2027, 12, 20, 11), person(RE))
    assert (reunion.allowed, reunion.reason) == (False, "holiday")
    assert reunion.next_allowed_at == at(REUNION, 2027, 12, 21, 10)
    assert decide(at(PARIS, 2027, 12, 20, 11)).allowed


def test_a_reunion_number_is_judged_on_reunion_time() -> None:
    ten_in_paris = at(PARIS, 2026, 12, 7, 10)
    decision = decide(ten_in_paris, person(RE))
    assert (decision.allowed, decision.reason) == (False, "outside_hours")
    assert decision.local_time == datetime(2026, 12, 7, 13, 0, tzinfo=REUNION)
    assert decision.next_allowed_at == at(REUNION, 2026, 12, 7, 14)
    assert decide(at(PARIS, 2026, 12, 7, 11), person(RE)).allowed  # 14:00 in Réunion
    assert decide(at(PARIS, 2026, 12, 7, 7, 30), person(RE)).allowed  # 10:30 in Réunion
    assert not decide(at(PARIS, 2026, 12, 7, 7, 30)).allowed  # 07:30 in Paris


def test_a_guadeloupe_number_is_judged_on_its_own_time() -> None:
    # 15:00 in Paris is 10:00 in Guadeloupe.
    assert not decide(at(PARIS, 2026, 12, 7, 14, 59), person(GP)).allowed
    assert decide(at(PARIS, 2026, 12, 7, 15, 0), person(GP)).allowed


# --- DST -----------------------------------------------------------------------------------


def test_paris_spring_forward_weekend() -> None:
    # Saturday 27 March 2027 evening; Sunday 28 is the change; Monday 29 is Easter Monday.
    after = at(PARIS, 2027, 3, 27, 21)
    found = next_allowed(CALL, person(), after)
    assert found == datetime(2027, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert check(CALL, person(), found).local_time == datetime(2027, 3, 30, 10, tzinfo=PARIS)


def test_paris_fall_back_weekend() -> None:
    after = at(PARIS, 2026, 10, 23, 20)  # Friday 20:00 CEST; Sunday 25 the change
    assert next_allowed(CALL, person(), after) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "allowed"),
    [
        (datetime(2027, 3, 28, 5, 59, tzinfo=UTC), False),  # 07:59 CEST on the change day
        (datetime(2027, 3, 28, 6, 0, tzinfo=UTC), True),  # 08:00 CEST
        (datetime(2026, 10, 25, 6, 59, tzinfo=UTC), False),  # 07:59 CET on the change day
        (datetime(2026, 10, 25, 7, 0, tzinfo=UTC), True),  # 08:00 CET
    ],
)
def test_every_day_rules_on_the_change_days(instant: datetime, allowed: bool) -> None:
    # United States hours (every day, 08:00-21:00) for a contact living in Paris's zone.
    contact = person(US, timezone="Europe/Paris")
    assert check(CALL, contact, instant).allowed is allowed


# --- attempts and refusals -----------------------------------------------------------------


def test_fifth_attempt_in_thirty_days_is_refused() -> None:
    four = tuple(at(PARIS, 2026, 12, d, 11) for d in (1, 2, 3, 4))
    assert decide(at(PARIS, 2026, 12, 7, 11), person(attempts=four[:3])).allowed
    fifth = decide(at(PARIS, 2026, 12, 7, 11), person(attempts=four))
    assert (fifth.allowed, fifth.reason) == (False, "attempt_limit")
    # The first attempt (1 December) stops counting on the 31st day, 31 December.
    assert fifth.next_allowed_at == at(PARIS, 2026, 12, 31, 10)


def test_attempts_counted_over_thirty_calendar_days() -> None:
    four = tuple(at(PARIS, 2026, 12, 1, h) for h in (10, 11, 15, 16))
    day_30 = decide(at(PARIS, 2026, 12, 30, 11), person(attempts=four))
    assert (day_30.allowed, day_30.reason) == (False, "attempt_limit")
    assert decide(at(PARIS, 2026, 12, 31, 11), person(attempts=four)).allowed


def test_campaign_limit_is_stricter_only() -> None:
    two = tuple(at(PARIS, 2026, 12, d, 11) for d in (1, 2))
    strict = Terms("marketing", "call", "consent", max_attempts=2)
    assert check(strict, person(attempts=two), at(PARIS, 2026, 12, 7, 11)).reason == (
        "attempt_limit"
    )
    loose = Terms("marketing", "call", "consent", max_attempts=9)
    five = tuple(at(PARIS, 2026, 12, d, 11) for d in (1, 2, 3, 4))
    assert check(loose, person(attempts=five), at(PARIS, 2026, 12, 7, 11)).reason == (
        "attempt_limit"
    )


@pytest.mark.parametrize(
    ("day", "allowed"),
    [(date(2027, 2, 1), False), (date(2027, 2, 2), False), (date(2027, 2, 3), True)],
)
def test_sixty_days_after_a_refusal(day: date, allowed: bool) -> None:
    refused = at(PARIS, 2026, 12, 4, 11)  # days 59, 60, 61 after it above
    decision = decide(at(PARIS, day.year, day.month, day.day, 11), person(refused_at=refused))
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason == "refused_recently"
        assert decision.next_allowed_at == at(PARIS, 2027, 2, 3, 10)


# --- who may be contacted at all -----------------------------------------------------------


def test_do_not_call_blocks_whatever_the_basis() -> None:
    monday = at(PARIS, 2026, 12, 7, 11)
    for terms in (CALL, Terms("marketing", "call", "contract"), Terms("service", "call", "none")):
        decision = check(terms, person(on_do_not_call=True, has_current_contract=True), monday)
        assert (decision.allowed, decision.reason) == (False, "do_not_call")
        assert decision.next_allowed_at is None
    assert next_allowed(CALL, person(on_do_not_call=True), monday) is None


def test_marketing_call_needs_consent_or_a_contract() -> None:
    monday = at(PARIS, 2026, 12, 7, 11)
    assert decide(monday, person(consent_at=None)).reason == "no_consent"
    none = Terms("marketing", "call", "none")
    assert check(none, person(), monday).reason == "no_consent"
    contract = Terms("marketing", "call", "contract")
    assert check(contract, person(consent_at=None, has_current_contract=True), monday).allowed
    assert check(contract, person(consent_at=None), monday).reason == "no_contract"
    service = Terms("service", "call", "none")
    assert check(service, person(consent_at=None), monday).allowed


def test_service_calls_use_the_default_window() -> None:
    service = Terms("service", "call", "none")
    assert check(service, person(), at(PARIS, 2026, 12, 7, 9, 30)).allowed
    assert not check(CALL, person(), at(PARIS, 2026, 12, 7, 9, 30)).allowed
    own = Terms("service", "call", "none", window_start=time(8), window_end=time(9))
    assert check(own, person(), at(PARIS, 2026, 12, 7, 8, 30)).allowed


def test_campaign_window_narrows_the_law() -> None:
    own = Terms("marketing", "call", "consent", window_start=time(11), window_end=time(21))
    assert not check(own, person(), at(PARIS, 2026, 12, 7, 10, 30)).allowed
    assert check(own, person(), at(PARIS, 2026, 12, 7, 11, 0)).allowed
    late = check(own, person(), at(PARIS, 2026, 12, 7, 20, 30))
    assert (late.allowed, late.reason) == (False, "outside_hours")


def test_sms_stop_and_sms_hours() -> None:
    saturday = at(PARIS, 2026, 12, 12, 10)
    assert decide(saturday, terms=SMS).allowed
    stopped = decide(saturday, person(sms_opted_out=True), SMS)
    assert (stopped.allowed, stopped.reason, stopped.next_allowed_at) == (False, "opted_out", None)
    assert decide(at(PARIS, 2026, 12, 13, 10), terms=SMS).reason == "weekend"  # Sunday
    assert decide(at(PARIS, 2026, 12, 7, 7, 59), terms=SMS).reason == "outside_hours"
    assert decide(at(PARIS, 2026, 12, 7, 8, 0), terms=SMS).allowed
    assert decide(at(PARIS, 2026, 12, 7, 20, 0), terms=SMS).reason == "outside_hours"


def test_email_unsubscribed_and_missing_addresses() -> None:
    email = Terms("marketing", "email", "consent")
    sunday_night = at(PARIS, 2026, 12, 13, 23)
    assert check(email, person(), sunday_night).allowed
    assert check(email, person(email_unsubscribed=True), sunday_night).reason == "unsubscribed"
    no_address = Contact(number=FR, email=None, customer_id=1, consent_at=CONSENT)
    assert check(email, no_address, sunday_night).reason == "no_email"
    assert decide(sunday_night, person(None)).reason == "no_number"


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(7, 59, False), (8, 0, True), (8, 59, True), (9, 0, True), (20, 59, True), (21, 0, False)],
)
def test_us_number_local_hours(hour: int, minute: int, allowed: bool) -> None:
    decision = decide(at(NEW_YORK, 2026, 12, 7, hour, minute), person(US))
    assert decision.allowed is allowed
    assert decision.local_time == datetime(2026, 12, 7, hour, minute, tzinfo=NEW_YORK)
    assert any("64.1200(c)(1)" in rule for rule in decision.rules)


def test_a_number_spanning_two_zones_must_suit_both() -> None:
    boise, los_angeles = ZoneInfo("America/Boise"), ZoneInfo("America/Los_Angeles")
    early = decide(at(boise, 2026, 12, 7, 8, 30), person(IDAHO))  # 07:30 in Los Angeles
    assert (early.allowed, early.reason) == (False, "outside_hours")
    assert early.next_allowed_at == at(los_angeles, 2026, 12, 7, 8, 0)
    assert decide(at(los_angeles, 2026, 12, 7, 8, 0), person(IDAHO)).allowed
    late = decide(at(los_angeles, 2026, 12, 7, 20, 30), person(IDAHO))  # 21:30 in Boise
    assert (late.allowed, late.reason) == (False, "outside_hours")
    # A given time zone settles it.
    assert decide(at(boise, 2026, 12, 7, 8, 30), person(IDAHO, timezone="America/Boise")).allowed


def test_other_countries_default_window() -> None:
    london = ZoneInfo("Europe/London")
    assert not decide(at(london, 2026, 12, 7, 8, 59), person(GB)).allowed
    assert decide(at(london, 2026, 12, 7, 9, 0), person(GB)).allowed
    assert decide(at(london, 2026, 12, 12, 11), person(GB)).reason == "weekend"


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="now"):
        check(CALL, person(), datetime(2026, 12, 7, 11))
    with pytest.raises(ValueError, match="attempts"):
        check(CALL, person(attempts=(datetime(2026, 12, 1, 11),)), at(PARIS, 2026, 12, 7, 11))
    with pytest.raises(ValueError, match="refused_at"):
        next_allowed(CALL, person(refused_at=datetime(2026, 12, 1)), at(PARIS, 2026, 12, 7, 11))
    with pytest.raises(ValueError, match="kind"):
        check(Terms("prospection", "call", "consent"), person(), at(PARIS, 2026, 12, 7, 11))


# --- properties ----------------------------------------------------------------------------

# The law's hours written out again here, apart from the rules table, for the property tests.
FRENCH = {FR: ("FR", None, PARIS), RE: ("FR", "974", REUNION), GP: ("FR", "971", None)}
FRENCH_WINDOWS = ((time(10), time(13)), (time(14), time(20)))

start = datetime(2026, 1, 1, tzinfo=UTC)
instants = st.integers(min_value=0, max_value=3 * 365 * 24 * 60).map(
    lambda m: start + timedelta(minutes=m)
)


DAY = 24 * 60  # minutes
# More examples for a deeper run: COMPLIANCE_EXAMPLES=4000 (both properties held at 4000).


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Terms, Contact, datetime]:
    """Random contacts and instants, dense around the rules' edges (4 attempts, 30 and 60 days)."""
    now = draw(instants)
    number = draw(st.sampled_from([FR, FR, RE, GP, US, GB, IDAHO]))
    near_edge = st.integers(min_value=27 * DAY, max_value=32 * DAY)
    anywhere = st.integers(min_value=1, max_value=45 * DAY)
    offsets = draw(st.lists(st.one_of(near_edge, anywhere), max_size=5))
    attempts = tuple(now - timedelta(minutes=m) for m in offsets)
    refused = draw(
        st.one_of(
            st.none(),
            st.none(),
            st.integers(min_value=58 * DAY, max_value=63 * DAY),
            st.integers(min_value=0, max_value=90 * DAY),
        )
    )
    window = draw(
        st.one_of(st.none(), st.none(), st.tuples(st.integers(0, 23), st.integers(1, 24)))
    )
    terms = Terms(
        "marketing",
        draw(st.sampled_from(["call", "call", "sms"])),
        "consent",
        window_start=time(window[0]) if window else None,
        window_end=time(window[1]) if window and window[1] < 24 else None,
        max_attempts=draw(st.one_of(st.none(), st.none(), st.integers(1, 6))),
    )
    contact = person(
        number,
        attempts=attempts,
        refused_at=None if refused is None else now - timedelta(minutes=refused),
        on_do_not_call=draw(st.integers(0, 9)) == 0,
    )
    return terms, contact, now


@settings(max_examples=int(os.environ.get("COMPLIANCE_EXAMPLES", "400")), deadline=None)
@given(scenarios())
def test_property_allowed_calls_keep_the_french_rules(
    scenario: tuple[Terms, Contact, datetime],
) -> None:
    terms, contact, now = scenario
    decision = check(terms, contact, now)
    if not decision.allowed:
        assert decision.reason != "ok"
        return
    assert not contact.on_do_not_call
    assert decision.local_time is not None
    local = decision.local_time
    assert local.utcoffset() == now.astimezone(local.tzinfo).utcoffset()
    if contact.number not in FRENCH or terms.channel != "call":
        return
    country, subdiv, _ = FRENCH[contact.number]
    wall = local.time().replace(tzinfo=None)
    assert any(lo <= wall < hi for lo, hi in FRENCH_WINDOWS)
    assert local.weekday() < 5
    assert local.date() not in holidays.country_holidays(country, subdiv=subdiv, years=local.year)
    zone = local.tzinfo
    recent = [a for a in contact.attempts if (local.date() - a.astimezone(zone).date()).days < 30]
    assert len(recent) < min(4, terms.max_attempts or 4)
    if contact.refused_at is not None:
        assert (local.date() - contact.refused_at.astimezone(zone).date()).days > 60


@settings(max_examples=int(os.environ.get("COMPLIANCE_EXAMPLES", "200")), deadline=None)
@given(scenarios(), st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), max_size=8))
def test_property_next_allowed_is_the_first_allowed_instant(
    scenario: tuple[Terms, Contact, datetime], fractions: list[float]
) -> None:
    terms, contact, after = scenario
    found = next_allowed(terms, contact, after)
    if found is None:
        assert not check(terms, contact, after).allowed
        return
    assert found >= after
    assert check(terms, contact, found).allowed
    span = found - after
    for fraction in fractions:
        between = after + span * fraction
        if between < found:
            assert not check(terms, contact, between).allowed
    before = found - timedelta(seconds=1)
    if before >= after:
        assert not check(terms, contact, before).allowed
