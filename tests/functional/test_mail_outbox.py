"""The e-mail outbox through the local mail simulator (no SMTP server configured): an agent's
reply leaves once, threaded, tagged with the ticket's reference, in the customer's language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from helpdesk.db import utcnow
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.mail import outbox
from helpdesk.mail.models import MailMessage
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Comment

ADDRESS = "manon@example.com"


@pytest.fixture
def mailsim(app: Any) -> Any:
    return app.extensions["mail_transport"]


def _ticket(api: Any, customer_id: int, subject: str = "Box down") -> dict[str, Any]:
    r = api.post(
        "/tickets", json={"subject": subject, "requester_id": customer_id, "channel": "email"}
    )
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def _reply(api: Any, ticket_id: int, body: str) -> dict[str, Any]:
    r = api.post(f"/tickets/{ticket_id}/comments", json={"body": body})
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def _inbound(ticket_id: int, customer_id: int, message_id: str) -> None:
    """A customer's mail on the ticket, as the inbound pipeline stores it."""
    db.session.add(
        MailMessage(
            message_id=message_id,
            direction="inbound",
            from_address=ADDRESS,
            to_addresses=["helpdesk@localhost"],
            subject="Box down",
            ticket_id=ticket_id,
            customer_id=customer_id,
            status="received",
        )
    )
    db.session.commit()


def test_a_reply_leaves_by_email_once_with_its_reference_and_the_agents_name(
    api, customer_factory, mailsim
):
    c = customer_factory(emails=[ADDRESS], language="fr", phones=[])
    t = _ticket(api, c.id)
    out = _reply(api, t["id"], "Bonjour,\n\nLe technicien passe demain.")
    # Sent to the simulator (no MAIL_SMTP_URL here), which the answer says.
    assert out["delivery"] == {
        "channel": "email",
        "status": "sent",
        "to": ADDRESS,
        "simulated": True,
    }
    row = db.session.scalar(select(MailMessage).where(MailMessage.comment_id == out["id"]))
    comment = db.session.get(Comment, out["id"])
    assert comment.delivery_ref == row.message_id and row.status == "sent"
    assert row.idempotency_key == f"comment:{out['id']}" and row.attempts == 1
    listed = api.get("/simulator/mail").get_json()["items"]
    assert len(listed) == 1
    mail = listed[0]
    assert mail["message_id"] == row.message_id and mail["recipients"] == [ADDRESS]
    assert mail["subject"] == f"[{t['reference']}] Box down"
    assert api.user.name in mail["from_header"] and api.user.name in mail["text"]
    assert "Le technicien passe demain." in mail["text"]
    assert f"Référence {t['reference']}" in mail["text"]  # the customer's language
    assert "<p>Le technicien passe demain.</p>" in mail["html"]
    assert mail["auto_submitted"] == ""  # a person wrote it
    assert api.get(f"/simulator/mail/{row.message_id}").get_json()["subject"] == mail["subject"]
    # The same task delivered again sends nothing more.
    assert outbox.send(db.session, row.id, mailsim) == "sent"
    assert len(mailsim.sent()) == 1


def test_replies_join_the_customers_thread(api, customer_factory, mailsim):
    c = customer_factory(emails=[ADDRESS], language="en")
    t = _ticket(api, c.id)
    _inbound(t["id"], c.id, "first-from-manon@example.com")
    first = _reply(api, t["id"], "Which model is it?")
    _inbound(t["id"], c.id, "second-from-manon@example.com")
    second = _reply(api, t["id"], "Thanks, we ship a new one.")
    rows = {
        r.comment_id: r
        for r in db.session.scalars(select(MailMessage).where(MailMessage.direction == "outbound"))
    }
    mail = mailsim.get(rows[second["id"]].message_id)
    assert mail.in_reply_to == "second-from-manon@example.com"
    assert mail.references == (
        "first-from-manon@example.com",
        rows[first["id"]].message_id,
        "second-from-manon@example.com",
    )
    assert mail.subject == f"Re: [{t['reference']}] Box down"
    assert "Reference " + t["reference"] in mail.text


def test_automatic_mail_says_so(app, customer_factory, ticket_factory, mailsim):
    c = customer_factory(emails=[ADDRESS], language="fr")
    t = ticket_factory(requester_id=c.id)
    row = outbox.queue_message(
        db.session,
        to=ADDRESS,
        subject="Nous avons bien reçu votre message",
        text="Votre demande est enregistrée.",
        ticket=t,
        kind="ack",
        auto=True,
        language="fr",
    )
    db.session.commit()
    mail = mailsim.get(row.message_id)
    assert mail.auto_submitted == "auto-replied"
    assert mail.subject == f"[{t.reference}] Nous avons bien reçu votre message"
    assert "envoyé automatiquement" in mail.text
    with pytest.raises(ValueError):
        outbox.queue_message(
            db.session, to=ADDRESS, subject="x", text="y", kind="bounce", auto=True
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Hello\r\nBcc: everyone@example.net"),
        ("subject", "Hello\nX-Evil: 1"),
        ("to", "manon@example.com\r\nBcc: everyone@example.net"),
        ("to", "Manon <manon@example.com>, everyone@example.net"),
    ],
)
def test_header_injection_is_refused(app, field, value):
    args = {"to": ADDRESS, "subject": "Hello", "text": "Body"} | {field: value}
    with pytest.raises(ValidationFailed) as refused:
        outbox.queue_message(db.session, **args)
    assert field in refused.value.fields
    db.session.rollback()
    assert db.session.scalar(select(MailMessage.id)) is None


def test_a_ticket_subject_with_line_breaks_leaves_as_one_line(api, customer_factory, mailsim):
    """The API takes any text as a ticket's subject; the reply's subject is made one line, so
    what was meant as a header stays words in the subject."""
    c = customer_factory(emails=[ADDRESS])
    t = _ticket(api, c.id, subject="Box down\r\nBcc: everyone@example.net")
    out = _reply(api, t["id"], "On it.")
    assert out["delivery"]["status"] == "sent"
    (mail,) = mailsim.sent()
    assert mail.subject == f"[{t['reference']}] Box down Bcc: everyone@example.net"
    assert mail.recipients == (ADDRESS,)
    raw = next(mailsim.sent_dir.glob("*.eml")).read_bytes()
    assert b"\nBcc:" not in raw


def test_a_worker_dead_after_the_simulator_stored_it_sends_nothing_twice(
    app, customer_factory, ticket_factory, mailsim, monkeypatch
):
    """The fault injected where a worker can die: the message is stored, the commit never
    happens. Recovery asks the simulator, finds it, and records it sent without sending."""
    monkeypatch.setattr(outbox, "send_after_commit", lambda session, row_id: None)
    c = customer_factory(emails=[ADDRESS])
    t = ticket_factory(requester_id=c.id)
    row = outbox.queue_message(db.session, to=ADDRESS, subject="Hi", text="Hello", ticket=t)
    db.session.commit()

    class Crash(BaseException):
        pass

    def die(session: Any, row: Any, now: Any) -> None:
        raise Crash  # the worker is gone before `sent` is written

    monkeypatch.setattr(outbox, "_sent", die)
    with pytest.raises(Crash):
        outbox.send(db.session, row.id, mailsim)
    db.session.rollback()
    monkeypatch.undo()
    assert db.session.get(MailMessage, row.id).status == "sending"
    stored = next(mailsim.sent_dir.glob("*.eml")).stat().st_mtime_ns
    assert outbox.recover(db.session, mailsim, now=utcnow() + timedelta(minutes=10)) == 1
    again = db.session.get(MailMessage, row.id)
    assert again.status == "sent" and again.attempts == 1
    assert [m.message_id for m in mailsim.sent()] == [row.message_id]
    assert next(mailsim.sent_dir.glob("*.eml")).stat().st_mtime_ns == stored


def test_a_reply_carries_no_reply_twice_for_one_comment(app, customer_factory, ticket_factory):
    c = customer_factory(emails=[ADDRESS])
    t = ticket_factory(requester_id=c.id)
    comment = tickets.add_comment(db.session, t, body="Internal", public=False)
    first = outbox.queue_message(db.session, to=ADDRESS, subject="s", text="t", comment=comment)
    again = outbox.queue_message(db.session, to=ADDRESS, subject="s", text="t", comment=comment)
    assert again.id == first.id


def test_no_simulator_list_when_an_smtp_server_is_configured(api, app):
    from helpdesk.mail.smtp import SmtpTransport

    app.extensions["mail_transport"] = SmtpTransport.from_url("smtp://127.0.0.1:1")
    r = api.get("/simulator/mail")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "simulator_off"


def _attachment(customer_id: int) -> int:
    from helpdesk.mail.models import Attachment

    row = Attachment(
        filename="facture.pdf",
        content_type="application/pdf",
        size=8,
        sha256="0" * 64,
        storage_key="k/facture",
        customer_id=customer_id,
    )
    db.session.add(row)
    db.session.flush()
    return int(row.id)


def test_attached_files_leave_with_the_message(app, customer_factory, ticket_factory, mailsim):
    app.extensions["mail_attachment_reader"] = {"k/facture": b"%PDF-1.4"}.__getitem__
    c = customer_factory(emails=[ADDRESS])
    t = ticket_factory(requester_id=c.id)
    row = outbox.queue_message(
        db.session,
        to=ADDRESS,
        subject="Votre facture",
        text="Ci-joint.",
        ticket=t,
        attachment_ids=[_attachment(c.id)],
    )
    db.session.commit()
    assert mailsim.get(row.message_id).attachments == ("facture.pdf",)


def test_a_file_that_cannot_be_read_is_retried_then_given_up_clearly(
    app, customer_factory, ticket_factory, mailsim
):
    """A store may be away for a while: the message waits like one for a server that is."""
    app.extensions["mail_attachment_reader"] = {}.__getitem__  # the file is gone
    c = customer_factory(emails=[ADDRESS])
    t = ticket_factory(requester_id=c.id)
    row = outbox.queue_message(
        db.session, to=ADDRESS, subject="s", text="t", ticket=t, attachment_ids=[_attachment(c.id)]
    )
    db.session.commit()
    waiting = db.session.get(MailMessage, row.id)
    assert waiting.status == "retry" and "facture.pdf unreadable" in waiting.error
    later = utcnow()
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        later += timedelta(days=1)
        status = outbox.send(db.session, row.id, mailsim, reader={}.__getitem__, now=later)
    failed = db.session.get(MailMessage, row.id)
    assert status == "failed" and failed.error.startswith("gave up after 6 attempts: attachment")
    assert mailsim.sent() == []


def test_erasing_the_customer_deletes_the_simulators_copies(api, customer_factory, mailsim):
    from helpdesk.customers import erasure as privacy
    from helpdesk.customers.models import Customer

    c = customer_factory(emails=[ADDRESS.upper()])
    other = customer_factory(emails=["hugo@example.com"])
    _reply(api, _ticket(api, c.id)["id"], "Bonjour")
    _reply(api, _ticket(api, other.id)["id"], "Hello")
    assert len(mailsim.sent()) == 2
    privacy.erase(db.session, db.session.get(Customer, c.id), actor_id=None)
    db.session.commit()
    assert [m.recipients for m in mailsim.sent()] == [("hugo@example.com",)]


def test_the_acknowledgement_carries_one_reference_and_one_automatic_line(api, mailsim):
    from helpdesk.mail import inbound

    raw = (
        b"From: Manon <manon@example.com>\r\nTo: support@helpdesk.example\r\n"
        b"Subject: My box is down\r\nMessage-ID: <ack-seam-1@example.com>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nIt blinks red since this morning.\r\n"
    )
    result = inbound.ingest(db.session, raw, source="test")
    assert result.outcome == "created"
    db.session.commit()
    reference = tickets.get(db.session, result.ticket_id).reference
    [ack] = mailsim.sent()
    assert ack.auto_submitted == "auto-replied" and ack.in_reply_to == "ack-seam-1@example.com"
    assert ack.subject == f"[{reference}] My box is down"
    assert "We have received your message" in ack.text
    assert ack.text.count(reference) == 1 and ack.html.count(reference) == 1
    assert ack.text.count("automati") == 1 and ack.html.count("automati") == 1


def test_a_bounce_of_a_reply_marks_the_reply_and_the_address(api, customer_factory, mailsim):
    from helpdesk.mail import inbound
    from helpdesk.mail.models import BouncingAddress

    c = customer_factory(emails=[ADDRESS])
    out = _reply(api, _ticket(api, c.id)["id"], "Your new box ships today.")
    row = db.session.scalar(select(MailMessage).where(MailMessage.comment_id == out["id"]))
    assert row.customer_id == c.id and out["delivery"]["status"] == "sent"
    assert db.session.get(Comment, out["id"]).delivery_ref == row.message_id
    dsn = (
        b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\r\n"
        b"To: support@helpdesk.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <dsn-seam-1@mx.example.net>\r\nAuto-Submitted: auto-replied\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
        b'boundary="dsn"\r\n\r\n--dsn\r\nContent-Type: text/plain\r\n\r\n'
        b"Your message could not be delivered.\r\n\r\n--dsn\r\n"
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; " + ADDRESS.encode() + b"\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n--dsn\r\n"
        b"Content-Type: text/rfc822-headers\r\n\r\nTo: " + ADDRESS.encode() + b"\r\n"
        b"Message-ID: <" + row.message_id.encode() + b">\r\n\r\n--dsn--\r\n"
    )
    result = inbound.ingest(db.session, dsn, source="test")
    db.session.commit()
    assert result.outcome == "bounced"
    assert db.session.get(MailMessage, row.id).status == "bounced"
    assert db.session.get(Comment, out["id"]).delivery_status == "bounced"
    bouncing = db.session.scalar(select(BouncingAddress))
    assert bouncing.address == ADDRESS and bouncing.bounces == 1
