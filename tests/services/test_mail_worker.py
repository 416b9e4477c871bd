"""The e-mail outbox with a real Celery worker on Redis and a real SMTP server, and the worker
killed between the server's acceptance and its commit.

SMTP cannot be asked afterwards whether it took a message, so this is the one case where the
server may receive a message twice: the test pins what the outbox promises instead. The helpdesk
records one message and one delivery; every copy the server got is the same message, byte for
byte, under the same Message-ID, so a mailbox that de-duplicates shows it once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from helpdesk.app import create_app
from helpdesk.auth import service as auth_service
from helpdesk.customers import service as customers
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.mail import outbox
from helpdesk.mail.models import MailMessage
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Comment
from helpdesk.tickets.workflow import Channel
from tests.conftest import PASSWORD
from tests.smtp_server import start_smtp

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = "manon@example.com"
# Sessions of this database waiting on a lock of the outbox's table: the worker, holding the
# server's 250, blocked on the row the test holds.
LOCK_WAITS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND query ILIKE '%mail_messages%'"
)


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "helpdesk.cli", "worker", "--concurrency", "1", "--pool", "solo",
           "--without-heartbeat", "--without-gossip", "--without-mingle"]  # fmt: skip
    return subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _wait_for(condition, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _reply(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with app.app_context():
        agent = auth_service.create_user(
            session=db.session, role="agent", email="a@example.com", password=PASSWORD,
            name="Amélie Agent",
        )  # fmt: skip
        customer = customers.create(db.session, name="Manon", emails=[ADDRESS], phones=[])
        ticket = tickets.create(
            db.session, actor=None, subject="Box down", requester_id=customer.id,
            channel=Channel.EMAIL,
        )  # fmt: skip
        comment = tickets.add_comment(db.session, ticket, body="On our way.", actor=agent)
        row_id = db.session.scalar(
            select(MailMessage.id).where(MailMessage.comment_id == comment.id)
        )
        return int(row_id), comment.id


def _kill_after_acceptance(worker: Any, smtp: Any, locker: Any, row_id: int) -> None:
    """Let the server accept the message while the test holds the row, then kill the worker
    as it waits to record the server's answer."""
    _wait_for(lambda: smtp.seen, "the worker never sent the message")
    with locker.connect() as conn:
        # Hold the row: the worker will get the server's 250 but cannot record it.
        conn.execute(text("SELECT id FROM mail_messages WHERE id = :id FOR UPDATE"), {"id": row_id})
        smtp.hold.set()
        with locker.connect() as watcher:

            def waiting() -> bool:
                found = watcher.execute(text(LOCK_WAITS)).scalar()
                watcher.rollback()
                return bool(found)

            _wait_for(waiting, "the worker never tried to record the server's answer", 30)
        assert len(smtp.accepted) == 1  # the server has it...
        os.kill(worker.pid, signal.SIGKILL)  # ...and the worker dies before its commit
        worker.wait(timeout=10)
        conn.rollback()


def test_worker_killed_after_the_server_accepted_records_one_message(
    settings, database, redis_url, tmp_path, monkeypatch
):
    smtp, controller, port = start_smtp()
    settings.REDIS_URL = redis_url
    settings.MAIL_SMTP_URL = f"smtp://127.0.0.1:{port}?timeout=10"
    settings.MAIL_FROM = "Support <support@helpdesk.test>"
    env = os.environ | {
        "DATABASE_URL": database.url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "x",
        "MAIL_SMTP_URL": settings.MAIL_SMTP_URL,
        "MAIL_FROM": settings.MAIL_FROM,
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "worker"),
    }
    worker = _worker(env)
    app = create_app(settings)
    locker = create_engine(database.url)
    try:
        smtp.hold.clear()  # the server takes its time to answer the final dot
        row_id, comment_id = _reply(app)
        _kill_after_acceptance(worker, smtp, locker, row_id)
        with app.app_context():
            stuck = db.session.get(MailMessage, row_id)
            assert stuck.status == "sending" and stuck.sent_at is None
            assert db.session.get(Comment, comment_id).delivery_status == "queued"
            again: list[int] = []
            monkeypatch.setattr(outbox, "send_after_commit", lambda s, i: again.append(i))
            transport = app.extensions["mail_transport"]
            later = utcnow() + timedelta(minutes=10)
            assert outbox.recover(db.session, transport, now=later) == 1
            assert again == [row_id]
            assert outbox.send(db.session, row_id, transport, now=later) == "sent"
            # A second sweep, or a late copy of the task, sends nothing more.
            assert outbox.recover(db.session, transport, now=later + timedelta(minutes=10)) == 0
            assert outbox.send(db.session, row_id, transport, now=later) == "sent"
            db.session.expire_all()
            done = db.session.get(MailMessage, row_id)
            assert done.status == "sent" and done.attempts == 2
            assert db.session.get(Comment, comment_id).delivery_status == "sent"
            rows = db.session.scalars(
                select(MailMessage).where(MailMessage.comment_id == comment_id)
            )
            assert len(list(rows)) == 1
            transport.close()
            db.session.remove()
            db.engine.dispose()
        first, second = smtp.accepted
        assert first.data == second.data  # the same bytes: same Message-ID, Date, boundaries
        assert first.message["Message-ID"] == f"<{done.message_id}>"
    finally:
        smtp.hold.set()
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        locker.dispose()
        controller.stop()
    database.reset()


def test_a_duplicated_task_sends_one_message(settings, database, redis_url, tmp_path):
    """The broker delivers the sending task twice (a redelivery): the claim lets one through."""
    from tests.services.workers import wait_until_idle

    smtp, controller, port = start_smtp()
    settings.REDIS_URL = redis_url
    settings.MAIL_SMTP_URL = f"smtp://127.0.0.1:{port}?timeout=10"
    env = os.environ | {
        "DATABASE_URL": database.url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "x",
        "MAIL_SMTP_URL": settings.MAIL_SMTP_URL,
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "worker"),
    }
    cmd = [sys.executable, "-m", "helpdesk.cli", "worker", "--concurrency", "2", "--pool",
           "threads", "--without-heartbeat", "--without-gossip", "--without-mingle"]  # fmt: skip
    worker = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    app = create_app(settings)
    try:
        row_id, comment_id = _reply(app)  # its task leaves after the commit...
        celery = app.extensions["celery"]
        celery.tasks[outbox.SEND_TASK].delay(row_id)  # ...and a second copy of it
        wait_until_idle(celery, redis_url, done={outbox.SEND_TASK: 2})
        with app.app_context():
            assert db.session.get(MailMessage, row_id).status == "sent"
            assert db.session.get(Comment, comment_id).delivery_status == "sent"
            db.session.remove()
            db.engine.dispose()
        assert len(smtp.accepted) == 1 and smtp.accepted[0].rcpt_tos == [ADDRESS]
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        controller.stop()
    database.reset()
