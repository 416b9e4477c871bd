"""An SLA setting that cannot place a deadline never stops a ticket, a text or a voicemail.

A calendar that never opens (stored before such calendars were refused, or closed for longer
than the search horizon by its exceptions) under a catch-all policy used to make every ticket
creation fail: the API answered 500, and an inbound text or voicemail that wanted a ticket was
rolled back with it. The ticket is kept without a clock, its history says why, and the health
check names the calendar for the admins.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.sla.models import CalendarModel, SlaClock, SlaPolicy
from helpdesk.tickets.models import Ticket, TicketChange
from telephony.models import Call, SmsMessage

from .test_voice import fixture, queues, signed_post  # noqa: F401 - the fixture is used by name

ME = "+33612345678"
HOUR = 3600


@pytest.fixture
def never_open(app):
    """A default calendar with no hours, written as an old database or an import would hold it
    (the API and the console refuse to create one), with a policy for every ticket on it."""
    cal = CalendarModel(name="Never", timezone="UTC", weekly={}, is_default=True)
    db.session.add(cal)
    db.session.flush()
    db.session.add(
        SlaPolicy(
            name="Everything",
            position=1,
            calendar_id=cal.id,
            targets={
                p: {"first_response": HOUR, "resolution": 8 * HOUR}
                for p in ("low", "normal", "high", "urgent")
            },
        )
    )
    db.session.commit()
    return cal


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _sla_notes(ticket_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(TicketChange.note).where(
                TicketChange.ticket_id == ticket_id, TicketChange.action == "sla"
            )
        )
    )


def test_api_ticket_is_created_without_a_clock_and_says_why(api, never_open, customer_factory):
    customer = customer_factory(name="Inès")
    r = api.post("/tickets", json={"subject": "Box en panne", "requester_id": customer.id})
    assert r.status_code == 201, r.get_json()
    ticket_id = r.get_json()["id"]
    assert _count(SlaClock, SlaClock.ticket_id == ticket_id) == 0
    notes = _sla_notes(ticket_id)
    assert len(notes) == 1 and "SLA clocks not updated" in notes[0]
    assert "CalendarNeverOpen" in notes[0]
    # Later changes and replies go through too.
    r = api.patch(f"/tickets/{ticket_id}", json={"priority": "urgent", "status": "open"})
    assert r.status_code == 200, r.get_json()
    r = api.post(f"/tickets/{ticket_id}/comments", json={"body": "On regarde", "public": True})
    assert r.status_code == 201, r.get_json()


def test_inbound_text_opens_its_ticket(app, never_open, customer_factory):
    customer_factory(name="Camille", language="fr", phones=[ME])
    app.extensions["telephony_simulator"].text(ME, "Ma box ne marche plus")
    assert _count(SmsMessage, SmsMessage.direction == "inbound") == 1
    ticket = db.session.scalar(select(Ticket))
    assert ticket is not None and ticket.channel.value == "sms"
    assert _count(SlaClock) == 0 and _sla_notes(ticket.id)


def test_voicemail_opens_its_ticket(client, queues, never_open, customer_factory):  # noqa: F811
    customer_factory(name="Léa", phones=[ME])
    signed_post(client, "/twilio/voice", fixture("incoming_call"))  # closed: straight to voicemail
    r = signed_post(client, "/twilio/voice/voicemail", fixture("recording"))
    assert r.status_code == 200, r.get_data(as_text=True)
    call = db.session.scalar(select(Call))
    assert call.outcome == "voicemail" and call.ticket_id
    assert _sla_notes(call.ticket_id)


def test_health_names_the_calendar(client, never_open):
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded"
    assert body["sla"] == {
        "ok": False,
        "never_open_calendars": [{"id": never_open.id, "name": "Never"}],
    }


def test_health_hides_error_details_from_all_but_admins(app, client, make_user, monkeypatch):
    """A driver's error names hosts, users and versions: only an admin reads it."""
    import helpdesk.health

    secret = "could not connect to server at db-internal.example:5432 as user helpdesk_rw"

    def failing() -> dict:
        return {"backend": "postgresql", "ok": False, "latency_ms": 1.0, "error": secret}

    monkeypatch.setattr(helpdesk.health, "_database", failing)
    anonymous = client.get("/healthz")
    assert anonymous.status_code == 503
    assert secret not in anonymous.get_data(as_text=True)
    assert anonymous.get_json()["database"]["error"].startswith("unavailable")
    for role, shown in ((Role.AGENT, False), (Role.ADMIN, True)):
        user = make_user(role, password="a long enough passphrase 42")
        with app.test_client() as signed_in:
            r = signed_in.post(
                "/login",
                data={"email": user.email, "password": "a long enough passphrase 42"},
            )
            assert r.status_code in (302, 303), r.get_data(as_text=True)[:300]
            body = signed_in.get("/healthz").get_data(as_text=True)
            assert (secret in body) is shown, role
