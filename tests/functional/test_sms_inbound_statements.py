"""An inbound text's statements, on SQLite and PostgreSQL: the row is inserted and read back in
one `INSERT ... ON CONFLICT DO NOTHING RETURNING`, a copy of the webhook costs that insert alone
and changes nothing, and the sender's customer, their opt-out and their last acknowledgement
come in one select."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update
from twilio.request_validator import RequestValidator

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from telephony import sms_inbound
from telephony.models import SmsMessage, SmsOptOut

OURS = "+15005550006"
ME = "+33612345678"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def statements() -> Iterator[list[str]]:
    """The statements of the first transaction inside (SQLite's BEGIN left out): the webhook's
    own, not those of the acknowledgement's send, which runs in-process after the commit."""
    seen: list[str] = []
    done = {"committed": False}

    def before(conn, cursor, statement, parameters, context, executemany):
        text = " ".join(statement.split()).upper()
        if not done["committed"] and not text.startswith("BEGIN"):
            seen.append(text)

    def committed(conn):
        done["committed"] = True

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "commit", committed)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "commit", committed)


def _post(client, sid: str, body: str):
    form = {"MessageSid": sid, "From": ME, "To": OURS, "Body": body}
    sig = RequestValidator("test-auth-token").compute_signature("http://localhost/twilio/sms", form)
    r = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": sig})
    assert r.status_code == 200 and "<Response" in r.get_data(as_text=True)
    return r


def _count(model, *where) -> int:
    n = db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    db.session.commit()
    return n


def _on(table: str, seen: list[str], verb: str) -> list[str]:
    """The statements that read (SELECT table.…, not a subquery naming it), insert or update
    `table`."""
    starts = {
        "SELECT": f"SELECT {table}.",
        "INSERT": f"INSERT INTO {table} ",
        "UPDATE": f"UPDATE {table} ",
    }
    return [s for s in seen if s.startswith(starts[verb])]


def test_a_retried_message_sid_costs_one_insert_and_changes_nothing(
    client, customer_factory, recorded
):
    customer_factory(name="Camille", phones=[ME])
    db.session.commit()
    first = _post(client, "SM" + "1" * 32, "Ma box ne marche plus")
    rows = db.session.execute(select(SmsMessage.id, SmsMessage.ticket_id)).all()
    db.session.commit()
    recorded.clear()
    with statements() as seen:
        again = _post(client, "SM" + "1" * 32, "Ma box ne marche plus")
    assert again.get_data() == first.get_data()
    assert len(seen) == 1 and "ON CONFLICT" in seen[0] and "RETURNING" in seen[0], seen
    assert recorded.events == []  # nothing published, nothing queued
    assert db.session.execute(select(SmsMessage.id, SmsMessage.ticket_id)).all() == rows
    assert _count(Ticket) == 1


def test_receive_answers_none_for_a_text_recorded_already(app, customer_factory):
    customer_factory(name="Camille", phones=[ME])
    db.session.commit()
    settings = app.extensions["sms_settings"]
    text = sms_inbound.InboundSms("SM" + "2" * 32, ME, OURS, "Bonjour")
    row = sms_inbound.receive(db.session, text, settings)
    assert row is not None and row.ticket_id is not None
    assert sms_inbound.receive(db.session, text, settings) is None
    assert _count(SmsMessage, SmsMessage.direction == "inbound") == 1


def test_a_new_conversation_reads_no_row_it_wrote(client, customer_factory):
    customer_factory(name="Camille", phones=[ME])
    db.session.commit()
    with statements() as seen:
        _post(client, "SM" + "3" * 32, "Ma box ne marche plus")
    assert len(_on("SMS_MESSAGES", seen, "INSERT")) == 2  # the text, its acknowledgement
    assert len(_on("SMS_MESSAGES", seen, "UPDATE")) == 1  # its customer and ticket, at once
    assert _on("SMS_MESSAGES", seen, "SELECT") == []
    assert _on("SMS_OPT_OUTS", seen, "SELECT") == []  # asked within the customer's select
    lookups = [s for s in seen if s.startswith("SELECT") and "JOIN CUSTOMER_PHONES" in s]
    assert len(lookups) == 1, lookups
    for table in ("CUSTOMER_PHONES", "CUSTOMER_EMAILS", "CUSTOMER_TAGS"):  # none loaded apart
        assert _on(table, seen, "SELECT") == []
    assert _count(SmsMessage, SmsMessage.kind == "ack", SmsMessage.status != "opted_out") == 1


def test_an_opted_out_sender_gets_no_acknowledgement(client, customer_factory):
    customer_factory(name="Camille", phones=[ME])
    db.session.add(
        SmsOptOut(customer_number=ME, sending_number=OURS, source="keyword", opted_out_at=utcnow())
    )
    db.session.commit()
    _post(client, "SM" + "4" * 32, "Ma box ne marche plus")
    assert _count(Ticket) == 1
    acks = db.session.scalars(select(SmsMessage.status).where(SmsMessage.kind == "ack")).all()
    assert acks == ["opted_out"]


def test_one_acknowledgement_per_customer_and_period(client, customer_factory):
    """A customer whose conversation was closed within the hour and who texts again opens a new
    conversation, without a second acknowledgement; after the period they get one again."""
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Status

    customer_factory(name="Camille", phones=[ME])
    db.session.commit()

    def close_all() -> None:
        for ticket in db.session.scalars(select(Ticket).where(Ticket.status != Status.CLOSED)):
            tickets.update(db.session, ticket, actor=None, status=Status.SOLVED)
            tickets.update(db.session, ticket, actor=None, status=Status.CLOSED)

    _post(client, "SM" + "5" * 32, "Ma box ne marche plus")
    close_all()
    _post(client, "SM" + "6" * 32, "Et maintenant le téléphone")
    assert _count(Ticket) == 2
    assert _count(SmsMessage, SmsMessage.kind == "ack") == 1
    db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.kind == "ack")
        .values(created_at=utcnow() - timedelta(hours=2))
    )
    close_all()
    db.session.commit()
    _post(client, "SM" + "7" * 32, "Encore une panne")
    assert _count(Ticket) == 3
    assert _count(SmsMessage, SmsMessage.kind == "ack") == 2


def test_a_spooled_text_carries_the_time_it_arrived(app, customer_factory):
    customer_factory(name="Camille", phones=[ME])
    db.session.commit()
    settings = app.extensions["sms_settings"]
    arrived = utcnow() - timedelta(minutes=5)
    text = sms_inbound.InboundSms("SM" + "8" * 32, ME, OURS, "Bonjour")
    sms_inbound.receive(db.session, text, settings, received_at=arrived)
    stored = db.session.scalar(
        select(SmsMessage.created_at).where(SmsMessage.message_sid == text.message_sid)
    )
    assert abs(stored - arrived) < timedelta(milliseconds=1)
    # Recorded by a later copy first, its spooled arrival moves it back; never forward.
    later = sms_inbound.InboundSms("SM" + "9" * 32, ME, OURS, "Encore")
    sms_inbound.receive(db.session, later, settings)
    sms_inbound.backdate(db.session, later.message_sid, arrived)
    sms_inbound.backdate(db.session, later.message_sid, utcnow() + timedelta(minutes=5))
    stored = db.session.scalar(
        select(SmsMessage.created_at).where(SmsMessage.message_sid == later.message_sid)
    )
    assert abs(stored - arrived) < timedelta(milliseconds=1)
