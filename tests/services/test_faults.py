"""Faults under load, each with an accounting of every call and message.

- PostgreSQL connections dropped (pg_terminate_backend) while a web process answers a stream of
  incoming calls: no server error, the caller hears either the normal IVR or the apology that
  hands over to the fallback URL, nothing is half-written, and the pool recovers.
- A Celery worker killed (SIGKILL) in the middle of a batch of SMS sends: after a new worker
  starts and the outbox recovery runs, every message has been sent exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, select, text
from twilio.request_validator import RequestValidator

from helpdesk.app import create_app
from helpdesk.db import utcnow
from helpdesk.extensions import db
from telephony import sms
from telephony.models import Call, SmsMessage
from tests.services.test_realtime_processes import _env, _port, _up
from tests.twilio_mock import ACCOUNT, start_mock

ROOT = Path(__file__).resolve().parents[2]
FALLBACK = "https://handler.example.com/take-a-message"


def _gunicorn(url: str, redis_url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = _env(url, redis_url, tmp, str(port)) | {"HELPDESK_VOICE_FALLBACK_URL": FALLBACK}
    cmd = [sys.executable, "-m", "gunicorn", "--no-control-socket", "--worker-class", "gthread"]
    cmd += ["--workers", "1", "--threads", "16", "--bind", f"127.0.0.1:{port}"]
    return subprocess.Popen(
        [*cmd, "helpdesk.wsgi:app"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _terminate_backends(admin_url: str, dbname: str) -> int:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": dbname},
        ).scalar_one()
    engine.dispose()
    return int(killed)


def test_dropped_database_connections_answer_gracefully_and_recover(
    settings, database, redis_url, tmp_path
):
    from tests.conftest import PG_ADMIN_URL

    port = _port()
    web = _gunicorn(database.url, redis_url, port, tmp_path)
    base = f"http://127.0.0.1:{port}"
    validator = RequestValidator("rt-token")
    sids = [f"CA{n:032d}" for n in range(60)]
    answers: dict[str, tuple[int, str]] = {}
    lock = threading.Lock()

    def ring(sid: str) -> None:
        form = {"CallSid": sid, "From": f"+336120{int(sid[-4:]):05d}", "To": "+15005550006"}
        signature = validator.compute_signature(base + "/twilio/voice", form)
        response = requests.post(
            base + "/twilio/voice",
            data=form,
            headers={"X-Twilio-Signature": signature},
            timeout=15,
        )
        with lock:
            answers[sid] = (response.status_code, response.text)

    try:
        _up(port)
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(ring, sids[:20]))
            dbname = database.url.rsplit("/", 1)[1]
            dropped = _terminate_backends(PG_ADMIN_URL, dbname)
            # Then dropped again and again while calls are in flight, then left alone.
            stop = threading.Event()

            def keep_dropping() -> None:
                while not stop.is_set():
                    _terminate_backends(PG_ADMIN_URL, dbname)
                    time.sleep(0.05)

            dropper = threading.Thread(target=keep_dropping)
            dropper.start()
            try:
                list(pool.map(ring, sids[20:40]))
            finally:
                stop.set()
                dropper.join()
            list(pool.map(ring, sids[40:]))
        assert dropped >= 1, "the web process held no connection to drop"
        health = requests.get(base + "/healthz", timeout=10)
        assert health.status_code == 200
    finally:
        web.terminate()
        try:
            web.wait(timeout=15)
        except subprocess.TimeoutExpired:
            web.kill()

    statuses = {status for status, _ in answers.values()}
    assert statuses == {200}, statuses  # never a server error, never Twilio's "application error"
    degraded = {sid for sid, (_, body) in answers.items() if "technical problem" in body}
    normal = set(sids) - degraded
    for sid in degraded:
        assert f'<Redirect method="POST">{FALLBACK}</Redirect>' in answers[sid][1]
    for sid in normal:
        assert "<Response>" in answers[sid][1]
    # The pool recovered: the calls after the drops were answered normally.
    assert set(sids[45:]) <= normal, sorted(set(sids[45:]) & degraded)
    # Accounting: one row per call answered normally, none duplicated, none half-written.
    engine = create_engine(database.url)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(Call.call_sid, func.count()).group_by(Call.call_sid)).all())
        incomplete = conn.execute(
            select(func.count()).select_from(Call).where(Call.from_number == "")
        ).scalar_one()
    engine.dispose()
    assert all(count == 1 for count in rows.values()), rows
    assert normal <= set(rows), sorted(normal - set(rows))
    assert set(rows) <= set(sids)
    assert incomplete == 0
    print(  # the accounting, in the test's output
        f"calls: {len(sids)} rung, {len(normal)} answered normally, {len(degraded)} degraded, "
        f"{len(rows)} recorded, {dropped} connections dropped"
    )
    database.reset()


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "helpdesk.cli", "worker", "--concurrency", "4"]
    cmd += ["--pool", "threads", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    return subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_a_worker_killed_during_sends_leaves_each_sms_sent_exactly_once(
    settings, database, redis_url, tmp_path
):
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
    total = 40
    numbers = [f"+3361234{n:04d}" for n in range(total)]
    app = create_app(settings)
    first = _worker(env)
    second = None
    try:
        with app.app_context():
            for number in numbers:
                sms.queue_sms(
                    db.session, to=number, from_number="+15005550006", body=f"Rappel {number}"
                )
            db.session.commit()  # forty tasks leave now
        deadline = time.monotonic() + 60
        while len(mock.messages) < total // 4:
            assert time.monotonic() < deadline, "the worker never got going"
            time.sleep(0.02)
        mock.hold.clear()  # Twilio stalls: sends are in flight at Twilio when the worker dies
        time.sleep(0.5)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        mock.hold.set()
        killed_at = len(mock.messages)
        second = _worker(env)
        # The outbox recovery (beat runs it every 30 s) finds what the dead worker left.
        deadline = time.monotonic() + 90
        while True:
            with app.app_context():
                sms.recover(
                    db.session,
                    app.extensions["telephony_gateway"],
                    public_base_url=app.config["PUBLIC_BASE_URL"],
                    stuck_after=timedelta(0),
                    now=utcnow() + timedelta(minutes=5),
                )
                statuses = list(
                    db.session.scalars(
                        select(SmsMessage.status).where(SmsMessage.direction == "outbound")
                    )
                )
                db.session.commit()
            if statuses.count("accepted") == total:
                break
            assert time.monotonic() < deadline, {s: statuses.count(s) for s in set(statuses)}
            time.sleep(1.0)
        time.sleep(2)  # any duplicate send would have reached Twilio by now
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        mock.hold.set()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        server.shutdown()
        server.server_close()
    sent = [
        form["To"][0]
        for method, path, form in mock.seen
        if method == "POST" and path.endswith("Messages.json")
    ]
    assert sorted(sent) == sorted(numbers), (len(sent), total)
    print(
        f"sms: {total} queued, {killed_at} at Twilio when the worker was killed, {len(sent)} sent"
    )
    database.reset()
