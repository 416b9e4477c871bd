"""Outside opening hours calls go to voicemail: the simulator page says so, and an admin opens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.sla.hours import center_hours, open_around_the_clock
from helpdesk.sla.models import CalendarException, CalendarModel
from tests.functional.test_console import SessionPerRequestClient, html, sign_in


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return SessionPerRequestClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def closed(app: Flask) -> CalendarModel:
    """The center's hours: closed now, open for an hour tomorrow at 10:00 UTC."""
    calendar = CalendarModel(name="Office hours", timezone="UTC", weekly={}, is_default=True)
    db.session.add(calendar)
    db.session.flush()
    tomorrow = (utcnow() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    db.session.add(
        CalendarException(
            calendar_id=calendar.id,
            kind="opening",
            starts_at=tomorrow,
            ends_at=tomorrow + timedelta(hours=1),
        )
    )
    db.session.commit()
    return calendar


def test_center_hours_name_the_calendar_and_the_next_opening(closed: CalendarModel) -> None:
    hours = center_hours(db.session)
    assert not hours.open and hours.calendar_name == "Office hours"
    assert hours.next_open is not None and hours.next_open.hour == 10


def test_no_calendar_means_open(app: Flask) -> None:
    assert center_hours(db.session).open


def test_the_simulator_says_the_center_is_closed_and_when_it_opens(
    client: FlaskClient, make_user: Callable[..., User], closed: CalendarModel
) -> None:
    agent = make_user(Role.AGENT)
    sign_in(client, agent)
    page = html(client.get("/simulator"))
    assert 'id="sim-hours" data-open="false"' in page
    assert "The center is closed now: every call goes to voicemail." in page
    assert "“Office hours”" in page and "It opens again on" in page and "10:00" in page
    # Only an administrator may change the hours: an agent is told who can.
    assert "sim-open-center" not in page
    assert "An administrator can open the center" in page
    assert client.post("/simulator/open-center").status_code == 403


def test_an_admin_opens_the_center_in_one_click(
    client: FlaskClient, make_user: Callable[..., User], closed: CalendarModel
) -> None:
    admin = make_user(Role.ADMIN)
    sign_in(client, admin)
    assert 'id="sim-open-center"' in html(client.get("/simulator"))
    response = client.post("/simulator/open-center")
    assert response.status_code == 302
    page = html(client.get("/simulator"))
    assert 'data-open="true"' in page and "The center is open" in page
    hours = center_hours(db.session)
    assert hours.open and hours.calendar_name == "24/7"
    # The office-hours calendar stays, no longer the default; the change is audited.
    db.session.expire_all()
    assert not db.session.get(CalendarModel, closed.id).is_default
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "center.open_around_the_clock")
    )
    assert entry is not None and entry.actor_id == admin.id


def test_an_existing_always_open_calendar_is_reused(closed: CalendarModel) -> None:
    vip = CalendarModel(name="VIP 24/7", timezone="UTC", always_open=True)
    db.session.add(vip)
    db.session.flush()
    assert open_around_the_clock(db.session).id == vip.id
    db.session.commit()
    assert db.session.scalar(select(CalendarModel).where(CalendarModel.is_default)).id == vip.id


def test_a_closed_center_sends_the_simulated_call_to_voicemail_then_open_reaches_the_queue(
    app: Flask, closed: CalendarModel, customer_factory: Callable[..., Any]
) -> None:
    """What the notice promises is what a call does."""
    sim = app.extensions["telephony_simulator"]
    customer_factory(name="Noé", language="en", phones=["+33644444444"])
    call = sim.call("+33644444444")
    assert any("closed" in line.lower() for line in call.transcript)
    open_around_the_clock(db.session)
    db.session.commit()
    again = sim.call("+33644444444")
    assert not any("closed" in line.lower() for line in again.transcript)


def test_the_demo_takes_calls_on_a_sunday_night(app: Flask) -> None:
    """A trial at any hour reaches an agent; the office-hours calendar stays for the SLAs."""
    from datetime import UTC, datetime

    from helpdesk import demo

    demo.seed(customers=20, tickets=40, seed=3)
    sunday_night = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    hours = center_hours(db.session, at=sunday_night)
    assert hours.open and hours.calendar_name == "24/7"
    names = set(db.session.scalars(select(CalendarModel.name)))
    assert "Office hours" in names


def test_admins_see_the_webhook_addresses_built_from_the_public_url(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """The addresses to paste into Twilio follow PUBLIC_BASE_URL, not the host the admin used."""
    app.config["PUBLIC_BASE_URL"] = "https://help.example.com/"
    sign_in(client, make_user(Role.ADMIN))
    page = html(client.get("/settings", base_url="http://localhost:5301"))
    assert "<code>https://help.example.com/twilio/voice</code>" in page
    assert "<code>https://help.example.com/twilio/sms/status</code>" in page
    assert "localhost:5301/twilio" not in page
    client.post("/logout")
    sign_in(client, make_user(Role.AGENT))
    assert 'id="telephony-setup"' not in html(client.get("/settings"))
