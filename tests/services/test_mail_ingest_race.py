"""Copies of one message taken in at once on PostgreSQL (a provider's retry racing the first
delivery, or the ingress and the IMAP worker both given it): one row, one ticket."""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.mail.models import MailMessage
from helpdesk.tickets.models import Ticket

RAW = (Path(__file__).resolve().parents[1] / "fixtures" / "mail" / "iso_8859_1.eml").read_bytes()


def test_copies_at_once_make_one_ticket(app: Flask) -> None:
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def take() -> None:
        with app.app_context():
            start.wait()
            outcomes.append(inbound.ingest(db.session, RAW, source="ingress").outcome)
            db.session.remove()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["created", "duplicate", "duplicate", "duplicate"]
    directions = db.session.execute(select(MailMessage.direction, MailMessage.kind)).all()
    # One row for the message, and the one acknowledgement it earned.
    assert sorted(map(tuple, directions)) == [("inbound", "message"), ("outbound", "ack")]
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


def test_nul_characters_anywhere_are_taken_out_not_a_server_error(app: Flask) -> None:
    raw = (
        b"From: Nul\x00Name <nul@example.com>\r\nSubject: bad\x00subject =?utf-8?q?a=00b?=\r\n"
        b"Message-ID: <nul\x00id@example.com>\r\nIn-Reply-To: <x\x00y@example.com>\r\n"
        b'Content-Type: multipart/alternative; boundary="n"\r\n\r\n--n\r\n'
        b"Content-Type: text/plain\r\n\r\nbody\x00text\r\n--n\r\nContent-Type: text/html\r\n\r\n"
        b"<p>html\x00body</p>\r\n--n--\r\n"
    )
    result = inbound.ingest(db.session, raw, source="ingress")
    assert result.outcome == "created"
    row = db.session.get(MailMessage, result.mail_message_id)
    assert row.subject == "badsubject ab" and row.body_text == "bodytext"
    assert "\x00" not in row.body_html and row.from_name == "NulName"
