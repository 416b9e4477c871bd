"""Two-way SMS through the simulator: threading, keywords, opt-out, exactly-once sending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Comment, Ticket
from telephony import sms, sms_recovery
from telephony.models import SmsMessage, SmsOptOut

OURS = "+15005550006"
ME = "+33612345678"


@pytest.fixture
def sim(app):
    return app.extensions["telephony_simulator"]


@pytest.fixture
def gateway(app):
    return app.extensions["telephony_gateway"]


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_forged_and_retried_webhooks(client, sim):
    form = {"MessageSid": "SM" + "1" * 32, "From": ME, "To": OURS, "Body": "Bonjour"}
    assert client.post("/twilio/sms", data=form).status_code == 403
    assert _count(SmsMessage) == 0
    from twilio.request_validator import RequestValidator

    sig = RequestValidator("test-auth-token").compute_signature("http://localhost/twilio/sms", form)
    for _ in range(2):
        r = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": sig})
        assert r.status_code == 200 and "<Response" in r.get_data(as_text=True)
    assert _count(SmsMessage, SmsMessage.direction == "inbound") == 1
    assert _count(Ticket) == 1


def test_new_conversation_is_acknowledged_once(sim, customer_factory):
    customer_factory(name="Camille", language="fr", phones=[ME])
    sim.text(ME, "Ma box ne marche plus")
    sim.text(ME, "Toujours rien", media_urls=("https://example.com/photo.jpg",))
    tickets = db.session.scalars(select(Ticket)).all()
    assert len(tickets) == 1 and tickets[0].channel.value == "sms"
    inbox = sim.inbox(ME)
    assert len(inbox) == 1 and tickets[0].reference in inbox[0]
    assert inbox[0].startswith("Nous avons bien reçu votre message")
    comment = db.session.scalar(select(Comment).where(Comment.ticket_id == tickets[0].id))
    assert "[media] https://example.com/photo.jpg" in comment.body


def test_a_text_reopens_a_solved_conversation_and_a_closed_one_gets_a_new_ticket(
    sim, customer_factory
):
    """A solved SMS ticket is not over for the customer: their next text reopens it, as any
    customer reply does. A closed one is final, so a text after it opens a new conversation."""
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Status

    customer_factory(name="Camille", language="fr", phones=[ME])
    sim.text(ME, "Ma box ne marche plus")
    first = db.session.scalar(select(Ticket))
    tickets.update(db.session, first, actor=None, status=Status.SOLVED)
    sim.text(ME, "Elle est encore tombée en panne")
    db.session.expire_all()
    assert _count(Ticket) == 1
    first = db.session.get(Ticket, first.id)
    assert first.status is Status.OPEN
    bodies = db.session.scalars(select(Comment.body).where(Comment.ticket_id == first.id)).all()
    assert "Elle est encore tombée en panne" in bodies
    text = db.session.scalar(select(SmsMessage).where(SmsMessage.body.startswith("Elle est")))
    assert text.ticket_id == first.id
    tickets.update(db.session, first, actor=None, status=Status.SOLVED)
    tickets.update(db.session, first, actor=None, status=Status.CLOSED)
    sim.text(ME, "Et maintenant le téléphone")
    db.session.expire_all()
    assert _count(Ticket) == 2
    newest = db.session.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))
    assert newest.id != first.id and newest.channel.value == "sms"
    assert db.session.get(Ticket, first.id).status is Status.CLOSED


def test_english_speaker_gets_english(sim, customer_factory):
    customer_factory(name="Emma", language="en", phones=["+14155552671"])
    sim.text("+14155552671", "My printer is broken")
    assert sim.inbox("+14155552671")[0].startswith("We received your message")


@pytest.mark.parametrize("word", ["STOP", "stop", "Arrêt", "ARRET", "unsubscribe", "Cancel"])
def test_stop_then_nothing_reaches_them(app, sim, word, customer_factory, api):
    customer_factory(name="Léa", language="fr", phones=[ME])
    sim.text(ME, "Bonjour")
    ticket = db.session.scalar(select(Ticket))
    sim.text(ME, word)
    sim.text(ME, word)  # a second STOP gets no second confirmation
    assert _count(SmsOptOut, SmsOptOut.customer_number == ME, SmsOptOut.sending_number == OURS) == 1
    assert sum("ne recevrez plus" in m for m in sim.inbox(ME)) == 1
    before = len(sim.inbox(ME))
    r = api.post("/sms", json={"ticket_id": ticket.id, "body": "Avez-vous redémarré ?"})
    assert r.status_code == 409
    row = sms.queue_sms(
        db.session, to=ME, from_number=OURS, body="Rappel de rendez-vous", kind="notification"
    )
    db.session.commit()
    assert row.status == "opted_out"
    assert len(sim.inbox(ME)) == before
    sim.text(ME, "START")
    assert _count(SmsOptOut) == 0 and "réactivés" in sim.inbox(ME)[-1]


def test_opt_out_type_and_help(sim, customer_factory):
    customer_factory(name="Hugo", language="fr", phones=[ME])
    sim.text(ME, "AIDE")
    assert "STATUT suivi de la référence" in sim.inbox(ME)[-1]
    sim.text(ME, "Arrêtez de m'écrire", opt_out_type="STOP")
    assert _count(SmsOptOut) == 1


def test_status_only_for_own_tickets(sim, customer_factory, ticket_factory):
    me = customer_factory(name="Inès", language="fr", phones=[ME])
    mine = ticket_factory(requester_id=me.id)
    other = ticket_factory()
    sim.text(ME, f"STATUT {mine.reference}")
    assert sim.inbox(ME)[-1] == f"Le ticket {mine.reference} est nouveau."
    sim.text(ME, f"status {other.reference.lower()}")
    assert sim.inbox(ME)[-1] == "Nous ne trouvons pas ce ticket pour votre numéro."
    assert _count(Ticket) == 2  # keywords open no conversation


def test_agent_reply_goes_out_once(sim, api, customer_factory):
    customer_factory(name="Noé", language="fr", phones=[ME])
    sim.text(ME, "Bonjour")
    ticket = db.session.scalar(select(Ticket))
    r = api.post("/sms", json={"ticket_id": ticket.id, "body": "Bonjour, avez-vous essayé ?"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "accepted" and r.get_json()["segments"] == 1
    assert sim.inbox(ME)[-1] == "Bonjour, avez-vous essayé ?"
    thread = api.get(f"/sms?ticket_id={ticket.id}").get_json()["items"]
    assert [m["direction"] for m in thread] == ["outbound", "outbound", "inbound"]
    assert api.get("/sms").status_code == 422
    seg = api.get("/sms/segments", query_string={"body": "é" * 161}).get_json()
    assert seg == {"encoding": "GSM-7", "segments": 2, "characters": 161}


def test_duplicate_task_sends_once(app, sim, gateway):
    row = sms.queue_sms(db.session, to=ME, from_number=OURS, body="Votre technicien arrive")
    db.session.commit()  # the eager task sends it
    message_id = row.id
    assert (
        sms.send(db.session, message_id, gateway, public_base_url="http://localhost") == "accepted"
    )
    assert sim.inbox(ME) == ["Votre technicien arrive"]


def test_worker_died_after_the_provider_accepted(app, sim, gateway, monkeypatch):
    """The row stayed `sending` with no MessageSid: recovery finds the message, sends nothing."""
    monkeypatch.setattr(sms, "send_after_commit", lambda session, message_id: None)
    row = sms.queue_sms(db.session, to=ME, from_number=OURS, body="Rendez-vous demain 14 h")
    db.session.commit()
    message_id, key = row.id, row.idempotency_key
    db.session.execute(
        SmsMessage.__table__.update()
        .where(SmsMessage.id == message_id)
        .values(status="sending", attempts=1)
    )
    db.session.commit()
    gateway.send_sms(
        ME, OURS, "Rendez-vous demain 14 h", f"http://localhost/twilio/sms/status?key={key}"
    )  # accepted, then the crash
    fixed = sms_recovery.recover(
        db.session,
        gateway,
        public_base_url="http://localhost",
        stuck_after=timedelta(0),
        now=utcnow() + timedelta(minutes=5),
    )
    assert fixed == 1
    db.session.expire_all()
    row = db.session.get(SmsMessage, message_id)
    assert row.status == "accepted" and row.message_sid
    assert sim.inbox(ME) == ["Rendez-vous demain 14 h"]


def test_worker_died_before_the_provider_got_it(app, sim, gateway, monkeypatch):
    row = sms.queue_sms(db.session, to=ME, from_number=OURS, body="Facture disponible")
    monkeypatch.setattr(sms, "send_after_commit", lambda session, message_id: None)
    db.session.commit()
    message_id = row.id
    db.session.execute(
        SmsMessage.__table__.update()
        .where(SmsMessage.id == message_id)
        .values(status="sending", attempts=1)
    )
    db.session.commit()
    monkeypatch.undo()
    sms_recovery.recover(
        db.session,
        gateway,
        public_base_url="http://localhost",
        stuck_after=timedelta(0),
        now=utcnow() + timedelta(minutes=5),
    )
    assert sim.inbox(ME) == ["Facture disponible"]


def test_status_callbacks_never_go_backwards(app, client, sim, recorded):
    row = sms.queue_sms(db.session, to=ME, from_number=OURS, body="Bonjour")
    db.session.commit()
    db.session.refresh(row)
    sid, key = row.message_sid, row.idempotency_key

    def status(state, **extra):
        sim.post(
            f"/twilio/sms/status?key={key}", {"MessageSid": sid, "MessageStatus": state, **extra}
        )

    status("delivered")
    status("sent")
    db.session.expire_all()
    assert db.session.get(SmsMessage, row.id).status == "delivered"
    row2 = sms.queue_sms(db.session, to="+33699999999", from_number=OURS, body="Bonjour")
    db.session.commit()
    db.session.refresh(row2)
    sim.post(
        f"/twilio/sms/status?key={row2.idempotency_key}",
        {"MessageSid": row2.message_sid, "MessageStatus": "failed", "ErrorCode": "21610"},
    )
    db.session.expire_all()
    assert db.session.get(SmsMessage, row2.id).status == "opted_out"
    assert _count(SmsOptOut, SmsOptOut.customer_number == "+33699999999") == 1
    assert recorded.named("sms.failed")


def test_permanent_and_transient_send_errors(app, sim, gateway, monkeypatch):
    class Refused(Exception):
        def __init__(self, code):
            super().__init__(f"error {code}")
            self.code = code

    monkeypatch.setattr(sms, "send_after_commit", lambda session, message_id: None)
    flaky = sms.queue_sms(db.session, to=ME, from_number=OURS, body="a")
    invalid = sms.queue_sms(db.session, to="+33600000001", from_number=OURS, body="b")
    db.session.commit()
    ids = flaky.id, invalid.id

    def refuse(to, *args):
        raise Refused("21211" if to == "+33600000001" else "20429")

    monkeypatch.setattr(gateway, "send_sms", refuse)
    assert sms.send(db.session, ids[0], gateway, public_base_url="http://localhost") == "retry"
    assert sms.send(db.session, ids[1], gateway, public_base_url="http://localhost") == "failed"
    row = db.session.get(SmsMessage, ids[0])
    assert row.next_attempt_at is not None and row.attempts == 1


def test_a_flood_opens_one_ticket_and_one_reply(app, sim, customer_factory):
    customer_factory(name="Flood", language="fr", phones=[ME])
    for i in range(500):
        sim.text(ME, f"message {i}")
    assert _count(SmsMessage, SmsMessage.direction == "inbound") == 500
    assert _count(Ticket) == 1
    assert len(sim.inbox(ME)) == 1
    flooded = _count(SmsMessage, SmsMessage.flooded.is_(True))
    assert flooded == 490  # the limit is 10 per minute
    # The excess is still recorded on the conversation (the first message opened it).
    assert _count(Comment) == 499


def test_simulator_sms_api(api, sim, customer_factory):
    customer_factory(name="Zoé", language="fr", phones=[ME])
    r = api.post("/simulator/sms", json={"from": "06 12 34 56 78", "body": "Bonjour"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["replies"][0].startswith("Nous avons bien reçu votre message")
    inbox = api.get("/simulator/sms", query_string={"number": ME}).get_json()["replies"]
    assert inbox == r.get_json()["replies"]


def test_a_reply_from_any_screen_goes_out_by_text(api, sim, customer_factory):
    """A public reply through the ticket comments API (as the console posts it) is a text."""
    customer_factory(name="Arthur", language="fr", phones=[ME])
    sim.text(ME, "Bonjour")
    ticket = db.session.scalar(select(Ticket))
    r = api.post(f"/tickets/{ticket.id}/comments", json={"body": "Nous arrivons demain."})
    assert r.status_code == 201
    assert sim.inbox(ME)[-1] == "Nous arrivons demain."
    api.post(f"/tickets/{ticket.id}/comments", json={"body": "note interne", "public": False})
    assert sim.inbox(ME)[-1] == "Nous arrivons demain."  # notes stay inside
    sim.text(ME, "STOP")
    r = api.post(f"/tickets/{ticket.id}/comments", json={"body": "Encore là ?"})
    assert r.status_code == 409 and "opted out" in r.get_json()["error"]["message"]
    assert _count(Comment, Comment.body == "Encore là ?") == 0  # nothing half-written


def test_sla_escalation_texts_the_on_call_number(settings, database, monkeypatch):
    from datetime import UTC, datetime

    from helpdesk.app import create_app
    from helpdesk.customers import service as customers
    from helpdesk.sla import service as sla_service
    from helpdesk.sla.models import CalendarModel, SlaPolicy
    from helpdesk.tickets import service as tickets

    settings.HELPDESK_ONCALL_NUMBER = "+33700000001"
    app = create_app(settings)
    start = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)
    monkeypatch.setattr("helpdesk.tickets.service.utcnow", lambda: start)
    with app.app_context():
        cal = CalendarModel(name="24/7", timezone="UTC", always_open=True)
        db.session.add(cal)
        db.session.flush()
        db.session.add(
            SlaPolicy(
                name="P",
                calendar_id=cal.id,
                targets={"normal": {"first_response": 60}},
                escalations=[{"on": "breached", "actions": [{"type": "sms_oncall"}]}],
            )
        )
        db.session.commit()
        c = customers.create(db.session, name="X", phones=["+33611111111"])
        t = tickets.create(db.session, actor=None, subject="late", requester_id=c.id)
        sla_service.scan(db.session, now=start.replace(minute=5))
        sim = app.extensions["telephony_simulator"]
        assert sim.inbox("+33700000001") == [f"SLA breached: {t.reference}, first response."]
        db.session.remove()
        db.engine.dispose()
    database.reset()
