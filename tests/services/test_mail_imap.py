"""The IMAP worker against a real Dovecot: each message taken once (by UID under UIDVALIDITY and
by Message-ID), moved out of the inbox once taken, and a new message picked up by IDLE."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from imapclient import IMAPClient
from sqlalchemy import func, select

from helpdesk.events import RecordingBackend
from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.mail.imap import MailboxReader, parse_url
from helpdesk.mail.models import MailboxState, MailMessage
from helpdesk.tickets.models import Ticket
from tests.dovecot import Dovecot

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def _client(server: Dovecot) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
    client.login(server.user, server.password)
    return client


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Iterator[IMAPClient]:
    """A client on the test's mailbox, logged out even when the test fails (no socket left)."""
    client = _client(dovecot)
    yield client
    client.logout()


def _reader(server: Dovecot, done_folder: str = "Helpdesk") -> MailboxReader:
    def ingest(session, raw, source):  # type: ignore[no-untyped-def]
        return inbound.ingest(session, raw, source=source)

    return MailboxReader(db.session, parse_url(server.url), ingest, done_folder=done_folder)


def test_messages_are_taken_once_and_moved(
    app: Flask, dovecot: Dovecot, mailbox: IMAPClient
) -> None:
    client = mailbox
    for name in ("encoded_subject.eml", "iso_8859_1.eml", "newsletter.eml"):
        client.append("INBOX", (CORPUS / name).read_bytes())
    # The same message twice in the mailbox (a forward rule, a resend): one ticket.
    client.append("INBOX", (CORPUS / "encoded_subject.eml").read_bytes())
    reader = _reader(dovecot)
    outcomes = [r.outcome for r in reader.take_new()]
    assert outcomes == ["created", "created", "ignored", "duplicate"]
    assert reader.take_new() == []  # nothing new: the UID is remembered
    reader.close()
    client.select_folder("INBOX")
    assert client.search(["ALL"]) == []
    client.select_folder("Helpdesk")
    assert len(client.search(["ALL"])) == 4
    taken = select(MailMessage.source).where(MailMessage.direction == "inbound")
    sources = set(db.session.scalars(taken))
    assert all(s.startswith("imap:helpdesk@127.0.0.1:") for s in sources)
    state = db.session.scalar(select(MailboxState))
    assert state.last_uid == 4 and state.uidvalidity > 0
    assert db.session.scalar(select(func.count(Ticket.id))) == 2


def test_without_a_done_folder_taken_mail_is_flagged(
    app: Flask, dovecot: Dovecot, mailbox: IMAPClient
) -> None:
    client = mailbox
    client.append("INBOX", (CORPUS / "windows_1252.eml").read_bytes())
    reader = _reader(dovecot, done_folder="")
    assert [r.outcome for r in reader.take_new()] == ["created"]
    reader.close()
    client.select_folder("INBOX")
    flags = client.get_flags(client.search(["ALL"]))
    assert all(b"\\Seen" in f and b"$Helpdesk" in f for f in flags.values())
    # A worker that lost its state (a new database, a new UIDVALIDITY) reads the mailbox again:
    # the Message-ID still keeps it from taking the message twice.
    db.session.execute(MailboxState.__table__.delete())
    db.session.commit()
    again = _reader(dovecot, done_folder="")
    assert [r.outcome for r in again.take_new()] == ["duplicate"]
    again.close()


def test_idle_picks_up_a_new_message_within_two_seconds(
    app: Flask, dovecot: Dovecot, recorded: RecordingBackend
) -> None:
    reader = _reader(dovecot)
    stop = threading.Event()
    worker = threading.Thread(target=_run_in_app, args=(app, dovecot, stop), daemon=True)
    worker.start()
    time.sleep(1.0)  # the worker is idling
    client = _client(dovecot)
    appended = time.monotonic()
    client.append("INBOX", (CORPUS / "gmail_reply_en.eml").read_bytes())
    while time.monotonic() - appended < 10:
        if any(e.name == "mail.received" for e in recorded.events):
            break
        time.sleep(0.02)
    elapsed = time.monotonic() - appended
    stop.set()
    worker.join(10)
    client.logout()
    reader.close()
    assert any(e.name == "mail.received" for e in recorded.events)
    assert elapsed < 2.0, elapsed


def _run_in_app(app: Flask, server: Dovecot, stop: threading.Event) -> None:
    with app.app_context():
        reader = _reader(server)
        reader.run(stop, idle_s=30, poll_s=1)
        db.session.remove()


def test_the_fetch_command_reads_the_configured_mailbox(
    app: Flask, dovecot: Dovecot, settings: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from helpdesk.cli import main

    client = _client(dovecot)
    client.append("INBOX", (CORPUS / "encoded_subject.eml").read_bytes())
    client.logout()
    for name, value in {
        "DATABASE_URL": settings.DATABASE_URL,
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "cli"),
        "SECRET_KEY": "cli-test",
        "HELPDESK_SCHEDULER": "0",
        "MAIL_IMAP_URL": dovecot.url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(main, ["mail", "fetch"])
    assert result.exit_code == 0, result.output
    assert "created" in result.output and "1 message(s) taken" in result.output
    monkeypatch.delenv("MAIL_IMAP_URL")
    missing = CliRunner().invoke(main, ["mail", "fetch"])
    assert missing.exit_code != 0 and "MAIL_IMAP_URL is not set" in missing.output


def test_the_embedded_scheduler_job_takes_new_mail(
    settings: Any, database: Any, dovecot: Dovecot, mailbox: IMAPClient
) -> None:
    """`make run` has no `mail` process: its scheduler polls the mailbox with this job."""
    from dataclasses import replace

    from helpdesk.app import create_app
    from helpdesk.mail.imap_tasks import POLL_TASK, embedded_jobs

    assert embedded_jobs(settings) == {}  # no mailbox, no job
    configured = replace(settings, MAIL_IMAP_URL=dovecot.url, MAIL_IMAP_POLL_S=15.0)
    assert embedded_jobs(configured) == {"mail-poll": {"task": POLL_TASK, "schedule": 15.0}}
    app = create_app(configured)
    try:
        with app.app_context():
            mailbox.append("INBOX", (CORPUS / "windows_1252.eml").read_bytes())
            poll = app.extensions["celery"].tasks[POLL_TASK]
            assert poll.apply().get() == 1
            assert poll.apply().get() == 0
            assert db.session.scalar(select(func.count(Ticket.id))) == 1
            db.session.remove()
            db.engine.dispose()
    finally:
        database.reset()  # this app is not the `app` fixture, which empties the database itself
