"""SLA clocks through the ticket lifecycle, the breach scan, and escalations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.sla import service as sla
from helpdesk.sla.models import CalendarModel, SlaClock, SlaEscalation, SlaPolicy
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import TicketChange
from helpdesk.tickets.workflow import Priority, Status

HOUR = 3600
MONDAY_9 = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)  # 09:00 in Paris


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock(MONDAY_9)
    for module in (
        "helpdesk.tickets.service",
        "helpdesk.sla.service",
        "helpdesk.customers.service",
    ):
        monkeypatch.setattr(f"{module}.utcnow", c)
    return c


@pytest.fixture
def office(app):
    cal = CalendarModel(
        name="Office",
        timezone="Europe/Paris",
        holiday_country="FR",
        weekly={
            d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
        },
        is_default=True,
    )
    always = CalendarModel(name="24/7", timezone="Europe/Paris", always_open=True)
    db.session.add_all([cal, always])
    db.session.flush()
    standard = {
        p: {"first_response": 4 * HOUR, "next_response": 8 * HOUR, "resolution": 16 * HOUR}
        for p in ("low", "normal", "high")
    }
    standard["urgent"] = {"first_response": HOUR, "next_response": 2 * HOUR, "resolution": 4 * HOUR}
    db.session.add_all(
        [
            SlaPolicy(
                name="VIP",
                position=1,
                calendar_id=always.id,
                conditions={"customer_tags": ["vip"]},
                targets={
                    p: {"first_response": 1800, "resolution": 2 * HOUR}
                    for p in ("low", "normal", "high", "urgent")
                },
                escalations=[
                    {"on": "at_risk", "actions": [{"type": "notify_assignee"}]},
                    {
                        "on": "breached",
                        "actions": [{"type": "notify_supervisors"}, {"type": "raise_priority"}],
                    },
                ],
            ),
            SlaPolicy(name="Standard", position=10, calendar_id=cal.id, targets=standard),
        ]
    )
    db.session.commit()
    return cal


def _clocks(ticket_id: int) -> dict[str, SlaClock]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(SlaClock).where(SlaClock.ticket_id == ticket_id).order_by(SlaClock.id)
    )
    return {f"{c.metric}#{c.cycle}": c for c in rows}


def test_policy_chosen_and_explained(app, office, clock, ticket_factory, customer_factory):
    vip = customer_factory(tags=["vip"])
    t = ticket_factory(requester_id=vip.id)
    clocks = _clocks(t.id)
    assert set(clocks) == {"first_response#1", "resolution#1"}
    assert clocks["first_response#1"].target_seconds == 1800
    note = db.session.scalars(
        select(TicketChange.note).where(
            TicketChange.ticket_id == t.id, TicketChange.action == "sla"
        )
    ).one()
    assert note == "ticket created: policy 'VIP' (customer tagged vip)"
    plain = ticket_factory()
    assert _clocks(plain.id)["first_response#1"].target_seconds == 4 * HOUR


def test_due_dates_count_business_hours(app, office, clock, ticket_factory):
    clock.now = datetime(2026, 6, 5, 15, 0, tzinfo=UTC)  # Friday 17:00 Paris
    t = ticket_factory()
    first = _clocks(t.id)["first_response#1"]
    # 1 hour on Friday, then Monday 09:00-12:00: due Monday 12:00 Paris (10:00 UTC).
    assert first.due_at == datetime(2026, 6, 8, 10, 0, tzinfo=UTC)
    assert first.at_risk_at == datetime(2026, 6, 8, 9, 12, tzinfo=UTC)


def test_pending_pauses_and_resumes(app, office, clock, ticket_factory, make_user):
    agent = make_user(Role.AGENT)
    t = ticket_factory()
    clock.advance(hours=1)
    tickets.add_comment(
        db.session, t, body="Can you send a photo?", actor=agent, status=Status.PENDING
    )
    clocks = _clocks(t.id)
    assert clocks["first_response#1"].state == "met"
    res = clocks["resolution#1"]
    assert res.state == "paused" and res.elapsed_seconds == HOUR and res.next_check_at is None
    clock.advance(days=3)  # the customer takes three days: none of it counts
    tickets.add_comment(db.session, t, body="Here it is", author_customer_id=t.requester_id)
    clocks = _clocks(t.id)
    res = clocks["resolution#1"]
    assert t.status is Status.OPEN and res.state == "running"
    assert res.elapsed_seconds == HOUR
    assert clocks["next_response#1"].state == "running"
    assert clocks["next_response#1"].target_seconds == 8 * HOUR


def test_priority_change_retargets_keeping_time_used(app, office, clock, ticket_factory):
    t = ticket_factory()
    clock.advance(minutes=30)
    tickets.update(db.session, t, actor=None, priority=Priority.URGENT)
    first = _clocks(t.id)["first_response#1"]
    assert first.target_seconds == HOUR and first.elapsed_seconds == 1800
    assert first.due_at == clock.now + timedelta(minutes=30)
    notes = db.session.scalars(
        select(TicketChange.note).where(
            TicketChange.ticket_id == t.id, TicketChange.action == "sla"
        )
    ).all()
    assert notes[-1] == "priority changed: policy 'Standard' (default policy)"


def test_solving_stops_and_reopening_resumes(app, office, clock, ticket_factory):
    t = ticket_factory()
    clock.advance(hours=2)
    tickets.update(db.session, t, actor=None, status=Status.SOLVED)
    res = _clocks(t.id)["resolution#1"]
    assert res.state == "met" and res.stopped_at == clock.now
    clock.advance(hours=1)
    tickets.update(db.session, t, actor=None, status=Status.OPEN)
    res = _clocks(t.id)["resolution#1"]
    assert res.state == "running" and res.elapsed_seconds == 2 * HOUR
    # 14 business hours left from Monday 12:00 (lunch until 13:00): due Wednesday 10:00 Paris.
    assert res.due_at == datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


def test_scan_marks_at_risk_then_breached_once(
    app, office, clock, ticket_factory, make_user, recorded, customer_factory
):
    agent = make_user(Role.AGENT)
    vip = customer_factory(tags=["vip"])
    t = ticket_factory(requester_id=vip.id, assignee_id=agent.id)
    assert sla.scan(db.session, now=clock.now).examined == 0
    recorded.clear()
    result = sla.scan(db.session, now=clock.now + timedelta(minutes=25))
    assert (result.at_risk, result.breached) == (1, 0)  # first response 80% of 30 min used
    alerts = recorded.named("sla.alert")
    assert [a.rooms for a in alerts] == [(f"user:{agent.id}",)]
    again = sla.scan(db.session, now=clock.now + timedelta(minutes=26))
    assert (again.at_risk, again.breached) == (0, 0)
    result = sla.scan(db.session, now=clock.now + timedelta(minutes=31))
    assert result.breached == 1
    db.session.expire_all()
    assert t.priority is Priority.HIGH  # raised by the escalation
    assert sla.scan(db.session, now=clock.now + timedelta(hours=1)).examined == 0
    # Resolution (2 h): at risk after 96 minutes, breached after 120.
    assert sla.scan(db.session, now=clock.now + timedelta(minutes=100)).at_risk == 1
    assert sla.scan(db.session, now=clock.now + timedelta(minutes=121)).breached == 1
    assert sla.scan(db.session, now=clock.now + timedelta(hours=5)).examined == 0
    fired = db.session.execute(
        select(SlaClock.metric, SlaEscalation.trigger, SlaEscalation.rule_index)
        .join(SlaClock, SlaClock.id == SlaEscalation.clock_id)
        .order_by(SlaEscalation.id)
    ).all()
    assert [tuple(r) for r in fired] == [
        ("first_response", "at_risk", 0),
        ("first_response", "breached", 1),
        ("resolution", "at_risk", 0),
        ("resolution", "breached", 1),
    ]


def test_scan_cost_follows_due_clocks(app, office, clock, ticket_factory):
    for _ in range(5):
        ticket_factory()
    assert sla.scan(db.session, now=clock.now + timedelta(minutes=1)).examined == 0
    # At risk after 3 h 12 of business time: 13:12 in Paris, the lunch hour not counted.
    assert sla.scan(db.session, now=clock.now + timedelta(hours=4, minutes=11)).examined == 0
    assert sla.scan(db.session, now=clock.now + timedelta(hours=4, minutes=13)).examined == 5


def test_paused_clock_never_breaches(app, office, clock, ticket_factory):
    t = ticket_factory()
    tickets.update(db.session, t, actor=None, status=Status.PENDING)
    assert sla.scan(db.session, now=clock.now + timedelta(days=30)).examined == 0
    assert all(c.state == "paused" for c in _clocks(t.id).values())


def test_live_view_counts_business_time(app, office, clock, ticket_factory):
    clock.now = datetime(2026, 6, 5, 15, 0, tzinfo=UTC)  # Friday 17:00 Paris
    t = ticket_factory()
    saturday = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
    view = {v["metric"]: v for v in sla.views_for(db.session, [t.id], now=saturday)[t.id]}
    # Closed all weekend: only Friday's last hour has been used.
    assert view["first_response"]["remaining_seconds"] == 3 * HOUR
    assert view["first_response"]["state"] == "running"


def test_no_policy_no_clocks(app, clock, ticket_factory):
    t = ticket_factory()
    assert _clocks(t.id) == {}
    assert sla.is_open(db.session)  # without a calendar the center is always open


def test_is_open_from_default_calendar(app, office):
    assert sla.is_open(db.session, datetime(2026, 6, 8, 8, 0, tzinfo=UTC))
    assert not sla.is_open(db.session, datetime(2026, 6, 8, 10, 30, tzinfo=UTC))  # lunch
    assert not sla.is_open(db.session, datetime(2026, 7, 14, 8, 0, tzinfo=UTC))  # holiday


def test_clocks_without_a_policy_follow_edits_of_the_default_calendar(
    app, office, clock, ticket_factory
):
    """A clock whose policy was deleted counts time with the default calendar: it is shown with
    it and re-planned when the default calendar's hours change."""
    t = ticket_factory()
    first = _clocks(t.id)["first_response#1"]
    first.policy_id = None  # what deleting its policy leaves
    db.session.commit()
    clock.advance(hours=4, minutes=30)  # 09:00-12:00 and 13:00-13:30 in Paris
    (view, _) = sla.views_for(db.session, [t.id])[t.id]
    assert view["metric"] == "first_response" and view["elapsed_seconds"] == 3.5 * HOUR
    sla.save_calendar(
        db.session,
        office,
        name=office.name,
        timezone="Europe/Paris",
        weekly={d: [["09:00", "11:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        always_open=False,
        holiday_country="FR",
        holiday_subdivision=None,
        is_default=True,
        exceptions=[],
    )
    moved = _clocks(t.id)["first_response#1"]
    # 3.5 h used under the old hours; half an hour left, from Tuesday 09:00 Paris.
    assert moved.elapsed_seconds == 3.5 * HOUR
    assert moved.due_at == datetime(2026, 6, 9, 7, 30, tzinfo=UTC)
