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
    assert db.session.scalar(select(func.count(MailMessage.id))) == 1
    assert db.session.scalar(select(func.count(Ticket.id))) == 1
