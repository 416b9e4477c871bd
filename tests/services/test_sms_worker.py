"""The outbox with a real Celery worker on Redis, Twilio's REST API played by the contract mock.

A message queued by the web side is sent once by the worker even when its task is delivered twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from helpdesk.app import create_app
from helpdesk.extensions import db
from telephony import sms, sms_recovery
from telephony.models import SmsMessage
from tests.services.workers import wait_until_idle
from tests.twilio_mock import ACCOUNT, start_mock

ROOT = Path(__file__).resolve().parents[2]


def test_worker_sends_once_despite_a_duplicated_task(settings, database, redis_url, tmp_path):
    mock, base, server = start_mock()
    twilio = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "worker-token",
        "TWILIO_API_BASE_URL": base,
    }
    settings.REDIS_URL = redis_url
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = "worker-token"
    settings.TWILIO_API_BASE_URL = base
    settings.fill_defaults()
    env = (
        os.environ
        | twilio
        | {
            "DATABASE_URL": database.url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "x",
            "HELPDESK_INSTANCE_PATH": str(tmp_path / "worker"),
        }
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "helpdesk.cli",
            "worker",
            "--concurrency",
            "2",
            "--pool",
            "threads",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app = create_app(settings)
    try:
        with app.app_context():
            row = sms.queue_sms(
                db.session,
                to="+33612345678",
                from_number="+15005550006",
                body="Votre technicien arrive vers 14 h 30",
            )
            db.session.commit()  # the task leaves after commit...
            message_id = row.id
            # ...and a second copy of it, as a broker redelivery would.
            app.extensions["celery"].tasks["telephony.tasks.send_sms"].delay(message_id)
            deadline = time.monotonic() + 60
            while True:
                db.session.expire_all()
                status = db.session.scalar(
                    select(SmsMessage.status).where(SmsMessage.id == message_id)
                )
                db.session.commit()
                if status == "accepted":
                    break
                assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
                assert time.monotonic() < deadline, f"not sent: {status}"
                time.sleep(0.2)
            # Both copies taken by the worker and finished, nothing left queued: only then
            # does the count of sends say that the duplicate sent nothing.
            wait_until_idle(
                app.extensions["celery"], redis_url, done={"telephony.tasks.send_sms": 2}
            )
            sent = [form for method, path, form in mock.seen if path.endswith("Messages.json")]
            assert len(sent) == 1, sent
            assert sent[0]["To"] == ["+33612345678"]
            assert sent[0]["StatusCallback"][0].endswith(f"key={row.idempotency_key}")
            db.session.remove()
            db.engine.dispose()
    finally:
        worker.terminate()
        try:
            worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        server.shutdown()
        server.server_close()
    database.reset()


def test_worker_killed_after_twilio_accepted_sends_nothing_twice(
    settings, database, redis_url, tmp_path
):
    """The worker dies between Twilio's answer and its commit; recovery finds the message at
    Twilio and marks it sent instead of sending it again."""
    import signal

    from sqlalchemy import create_engine, text

    mock, base, server = start_mock()
    settings.REDIS_URL = redis_url
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = "worker-token"
    settings.TWILIO_API_BASE_URL = base
    settings.fill_defaults()
    env = os.environ | {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "worker-token",
        "TWILIO_API_BASE_URL": base,
        "DATABASE_URL": database.url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "x",
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "worker"),
    }
    cmd = [
        sys.executable,
        "-m",
        "helpdesk.cli",
        "worker",
        "--concurrency",
        "1",
        "--pool",
        "solo",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    worker = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    app = create_app(settings)
    locker = create_engine(database.url)
    try:
        mock.hold.clear()  # Twilio takes its time to answer
        with app.app_context():
            row = sms.queue_sms(
                db.session,
                to="+33612345678",
                from_number="+15005550006",
                body="Rendez-vous confirmé demain à 9 h",
            )
            db.session.commit()
            message_id = row.id
        deadline = time.monotonic() + 60
        while not mock.messages:
            assert time.monotonic() < deadline, "the worker never called Twilio"
            time.sleep(0.05)
        with locker.connect() as conn:
            # Hold the row: the worker will get Twilio's answer but cannot record it.
            conn.execute(
                text("SELECT id FROM sms_messages WHERE id = :id FOR UPDATE"), {"id": message_id}
            )
            mock.hold.set()
            # The worker has Twilio's answer once its update of the row waits on our lock.
            # (Asked on a connection of its own: a transaction sees one snapshot of the view.)
            deadline = time.monotonic() + 30
            with locker.connect() as watcher:
                while not watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock' "
                        "AND query ILIKE '%sms_messages%'"
                    )
                ).scalar():
                    assert time.monotonic() < deadline, "the worker never recorded the answer"
                    watcher.rollback()
                    time.sleep(0.05)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            conn.rollback()
        with app.app_context():
            stuck = db.session.get(SmsMessage, message_id)
            assert stuck.status == "sending" and stuck.message_sid is None
            from datetime import timedelta

            from helpdesk.db import utcnow

            sms_recovery.recover(
                db.session,
                app.extensions["telephony_gateway"],
                public_base_url=app.config["PUBLIC_BASE_URL"],
                stuck_after=timedelta(0),
                now=utcnow() + timedelta(minutes=5),
            )
            db.session.expire_all()
            done = db.session.get(SmsMessage, message_id)
            assert done.status == "accepted" and done.message_sid == mock.messages[0]["sid"]
            db.session.remove()
            db.engine.dispose()
        posts = [p for m, p, _ in mock.seen if m == "POST" and p.endswith("Messages.json")]
        assert len(posts) == 1
    finally:
        mock.hold.set()
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        locker.dispose()
        server.shutdown()
        server.server_close()
    database.reset()
