"""The e-mail outbox against a real SMTP server (aiosmtpd on a loopback port): what the server
receives, STARTTLS and AUTH, implicit TLS, retries with back-off and giving up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from helpdesk.app import create_app
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.mail import outbox
from helpdesk.mail.models import MailMessage
from helpdesk.mail.smtp import SmtpTransport
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Comment
from helpdesk.tickets.workflow import Channel
from tests.smtp_server import Recorder, self_signed, start_smtp

ADDRESS = "manon@example.com"
LOGIN = ("helpdesk", "s3cr@t/pw")


@pytest.fixture
def smtp(settings: Any, tmp_path: Any) -> Iterator[Recorder]:
    """A server that wants STARTTLS then AUTH; the app's MAIL_SMTP_URL points at it."""
    recorder, controller, port = start_smtp(cert=self_signed(tmp_path), credentials=LOGIN)
    settings.MAIL_SMTP_URL = (
        f"smtp://helpdesk:s3cr%40t%2Fpw@127.0.0.1:{port}?starttls=1&verify=0&timeout=10"
    )
    settings.MAIL_FROM = "Support Team <support@helpdesk.test>"
    yield recorder
    controller.stop()


@pytest.fixture
def app(smtp: Recorder, settings: Any, database: Any) -> Iterator[Flask]:
    app = create_app(settings)
    with app.app_context():
        yield app
        app.extensions["mail_transport"].close()
        db.session.remove()
        db.engine.dispose()
    database.reset()


def _inbound(ticket_id: int, customer_id: int, message_id: str) -> None:
    db.session.add(
        MailMessage(
            message_id=message_id,
            direction="inbound",
            from_address=ADDRESS,
            to_addresses=["support@helpdesk.test"],
            subject="Ma box ne marche plus",
            ticket_id=ticket_id,
            customer_id=customer_id,
            status="received",
        )
    )
    db.session.commit()


def test_the_server_receives_the_reply_with_its_headers_and_parts(
    app, smtp, make_user, customer_factory, ticket_factory
):
    agent = make_user(name="Amélie Agent")
    customer = customer_factory(emails=[ADDRESS], language="fr")
    ticket = ticket_factory(
        requester_id=customer.id, channel=Channel.EMAIL, subject="Ma box ne marche plus"
    )
    _inbound(ticket.id, customer.id, "CAF=first@mail.example.com")
    comment = tickets.add_comment(
        db.session,
        ticket,
        body='Bonjour,\n\nRedémarrez-la. <script>alert("x")</script>\nhttps://aide.example.com',
        actor=agent,
    )
    assert smtp.logins == ["helpdesk"]  # over STARTTLS, with the percent-decoded password
    (got,) = smtp.accepted
    row = db.session.scalar(select(MailMessage).where(MailMessage.comment_id == comment.id))
    assert got.mail_from == "support@helpdesk.test" and got.rcpt_tos == [ADDRESS]
    msg = got.message
    assert msg["Message-ID"] == f"<{row.message_id}>" and row.message_id.endswith("@helpdesk.test")
    assert msg["In-Reply-To"] == "<CAF=first@mail.example.com>"
    assert msg["References"] == "<CAF=first@mail.example.com>"
    assert msg["Subject"] == f"Re: [{ticket.reference}] Ma box ne marche plus"
    assert msg["From"].addresses[0].display_name == "Amélie Agent (Support Team)"
    assert msg["Reply-To"] == "support@helpdesk.test"
    assert msg["Auto-Submitted"] is None
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    markup = msg.get_body(("html",)).get_content()
    assert "Redémarrez-la." in text and "Amélie Agent, Support Team" in text
    assert f"Référence {ticket.reference}" in text
    assert "<script" not in markup and "&lt;script&gt;" in markup
    assert '<a href="https://aide.example.com" rel="noopener noreferrer">' in markup
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).delivery_status == "sent"
    assert db.session.get(MailMessage, row.id).status == "sent"


def test_smtps_with_tls_from_the_first_byte(tmp_path):
    # (aiosmtpd cannot offer AUTH over implicit TLS without a warning; AUTH is shown above.)
    recorder, controller, port = start_smtp(cert=self_signed(tmp_path), implicit_tls=True)
    try:
        transport = SmtpTransport.from_url(f"smtps://127.0.0.1:{port}?verify=0&timeout=10")
        raw = b"Message-ID: <a@b.test>\r\nSubject: hi\r\n\r\nhello\r\n"
        transport.send(raw, sender="s@b.test", recipients=[ADDRESS], message_id="a@b.test")
        transport.send(raw, sender="s@b.test", recipients=[ADDRESS], message_id="a@b.test")
        transport.close()
    finally:
        controller.stop()
    assert [r.rcpt_tos for r in recorder.accepted] == [[ADDRESS], [ADDRESS]]


def _queued(customer_factory: Any, ticket_factory: Any, make_user: Any) -> tuple[int, int]:
    customer = customer_factory(emails=[ADDRESS])
    ticket = ticket_factory(requester_id=customer.id, channel=Channel.EMAIL)
    comment = tickets.add_comment(db.session, ticket, body="Hello", actor=make_user())
    row = db.session.scalar(select(MailMessage).where(MailMessage.comment_id == comment.id))
    return row.id, comment.id


def test_a_busy_server_is_retried_with_back_off_then_given_up(
    app, smtp, monkeypatch, customer_factory, ticket_factory, make_user
):
    monkeypatch.setattr(outbox, "send_after_commit", lambda session, row_id: None)
    row_id, comment_id = _queued(customer_factory, ticket_factory, make_user)
    transport = app.extensions["mail_transport"]
    smtp.replies = ["451 4.3.0 Mailbox busy, try again later"] * outbox.MAX_ATTEMPTS
    now = utcnow()
    waits = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        status = outbox.send(db.session, row_id, transport, now=now)
        row = db.session.get(MailMessage, row_id)
        assert row.attempts == attempt
        if status == "failed":
            break
        assert status == "retry" and row.error.startswith("451")
        # Not due before its time: a task arriving early sends nothing.
        assert outbox.send(db.session, row_id, transport, now=now) == "retry"
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert waits == list(outbox.BACKOFF)
    assert row.status == "failed" and row.attempts == outbox.MAX_ATTEMPTS
    assert row.error.startswith(f"gave up after {outbox.MAX_ATTEMPTS} attempts: 451")
    assert len(smtp.seen) == outbox.MAX_ATTEMPTS and smtp.accepted == []
    assert db.session.get(Comment, comment_id).delivery_status == "failed"
    # Given up is final: the recovery sweep leaves it alone.
    assert outbox.recover(db.session, transport, now=now + timedelta(days=1)) == 0
    assert outbox.send(db.session, row_id, transport, now=now + timedelta(days=1)) == "failed"


def test_a_refusal_gives_up_at_once_with_the_servers_reason(
    app, smtp, monkeypatch, customer_factory, ticket_factory, make_user
):
    monkeypatch.setattr(outbox, "send_after_commit", lambda session, row_id: None)
    row_id, comment_id = _queued(customer_factory, ticket_factory, make_user)
    smtp.replies = ["550 5.1.1 No such user here"]
    assert outbox.send(db.session, row_id, app.extensions["mail_transport"]) == "failed"
    row = db.session.get(MailMessage, row_id)
    assert row.error == "refused: 550 5.1.1 No such user here" and row.attempts == 1
    assert db.session.get(Comment, comment_id).delivery_status == "failed"


def test_a_server_out_of_reach_is_tried_again_later(
    app, smtp, monkeypatch, customer_factory, ticket_factory, make_user
):
    from tests.smtp_server import free_port

    monkeypatch.setattr(outbox, "send_after_commit", lambda session, row_id: None)
    row_id, comment_id = _queued(customer_factory, ticket_factory, make_user)
    away = SmtpTransport.from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2")
    now = utcnow()
    assert outbox.send(db.session, row_id, away, now=now) == "retry"
    row = db.session.get(MailMessage, row_id)
    assert "ConnectionRefusedError" in row.error and row.next_attempt_at == now + outbox.BACKOFF[0]
    assert db.session.get(Comment, comment_id).delivery_status == "queued"
    # Back, and the sweep picks the retry up once it falls due.
    sent: list[int] = []
    monkeypatch.setattr(outbox, "send_after_commit", lambda session, row_id: sent.append(row_id))
    outbox.recover(db.session, app.extensions["mail_transport"], now=now + timedelta(minutes=2))
    assert sent == [row_id]
    assert (
        outbox.send(
            db.session, row_id, app.extensions["mail_transport"], now=now + timedelta(minutes=2)
        )
        == "sent"
    )
    assert len(smtp.accepted) == 1
