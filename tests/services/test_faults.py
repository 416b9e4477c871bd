"""Faults under load, each with an accounting of every call and message.

- PostgreSQL connections dropped (pg_terminate_backend) while a web process answers a stream of
  incoming calls: no server error, the caller hears either the normal IVR or the apology that
  hands over to the fallback URL, nothing is half-written, and the pool recovers.
- A Celery worker killed (SIGKILL) in the middle of a batch of SMS sends: after a new worker
  starts and the outbox recovery runs, every message has been sent exactly once.
- A web process killed (SIGKILL) with agents connected: they reconnect to the other process, the
  call that arrived meanwhile is in exactly one console's snapshot, and is answered once.
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
from helpdesk.extensions import db
from telephony import sms, sms_recovery
from telephony.models import Call, SmsMessage
from tests.services.test_realtime_processes import _env, _port, _up
from tests.services.workers import wait_until_idle
from tests.twilio_mock import ACCOUNT, start_mock

ROOT = Path(__file__).resolve().parents[2]
FALLBACK = "https://handler.example.com/take-a-message"


def _gunicorn(url: str, redis_url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = _env(url, redis_url, tmp, str(port)) | {"HELPDESK_VOICE_FALLBACK_URL": FALLBACK}
    cmd = [sys.executable, "-m", "gunicorn", "--no-control-socket", "--worker-class", "gthread"]
    cmd += ["--workers", "1", "--threads", "16", "--bind", f"127.0.0.1:{port}"]
    with (tmp / f"web-{port}.log").open("wb") as log:  # read back when a test fails
        return subprocess.Popen(
            [*cmd, "helpdesk.wsgi:app"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _log_tail(tmp: Path, port: int, lines: int = 60) -> str:
    path = tmp / f"web-{port}.log"
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


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


def _allow_connections(admin_url: str, dbname: str, *, allow: bool) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS {str(allow).lower()}'))
    engine.dispose()


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
            # Then the database refuses every connection (superusers included) for a few calls:
            # each of those callers must hear the apology and be handed to the fallback URL.
            _allow_connections(PG_ADMIN_URL, dbname, allow=False)
            try:
                _terminate_backends(PG_ADMIN_URL, dbname)
                list(pool.map(ring, sids[40:45]))
            finally:
                _allow_connections(PG_ADMIN_URL, dbname, allow=True)
            list(pool.map(ring, sids[45:]))
        assert dropped >= 1, "the web process held no connection to drop"
        health = requests.get(base + "/healthz", timeout=10)
        assert health.status_code == 200
    finally:
        web.terminate()
        try:
            web.wait(timeout=15)
        except subprocess.TimeoutExpired:
            web.kill()

    database.engine.dispose()  # its pooled connections were dropped too
    statuses = {status for status, _ in answers.values()}
    # Never a server error, never Twilio's "application error".
    assert statuses == {200}, (statuses, _log_tail(tmp_path, port))
    degraded = {sid for sid, (_, body) in answers.items() if "technical problem" in body}
    normal = set(sids) - degraded
    assert set(sids[40:45]) <= degraded, sorted(set(sids[40:45]) - degraded)
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


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


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
                sms_recovery.recover(
                    db.session,
                    app.extensions["telephony_gateway"],
                    public_base_url=app.config["PUBLIC_BASE_URL"],
                    # Longer than any send to the mock takes once it answers again: the live
                    # worker's sends in flight are left alone, the dead worker's are taken up.
                    stuck_after=timedelta(seconds=3),
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
        # The tasks that recovery queued and the live worker's have all run: a duplicate send
        # would be at Twilio now, however slow the machine.
        wait_until_idle(app.extensions["celery"], redis_url)
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


def test_a_killed_web_process_loses_no_offer_its_agents_reconnect_to_the_other(
    settings, database, redis_url, tmp_path
):
    """Two web processes; agents connected to A; A is killed (SIGKILL) and a call arrives
    through B. The agents' consoles connect to B (as the load balancer sends them there), find
    the ringing call in their snapshot, and the one offered accepts it: one offer, one answer."""
    from helpdesk.auth import service as auth
    from helpdesk.auth.models import Role
    from telephony.models import CallOffer, CallQueue
    from tests.services.test_realtime_processes import Listener, _web

    settings.REDIS_URL = redis_url
    app = create_app(settings)
    tokens = []
    with app.app_context():
        db.session.add(CallQueue(name="support", skills={"support": 1}))
        db.session.commit()
        for n in range(3):
            user = auth.create_user(
                session=db.session,
                email=f"agent{n}@faults.example",
                password="longenough",
                role=Role.AGENT,
                skills={"support": 3},
                languages=["fr"],
            )
            tokens.append(auth.issue_token(session=db.session, user=user))
        db.session.remove()
        db.engine.dispose()
    port_a, port_b = _port(), _port()
    web_a = _web(database.url, redis_url, port_a, tmp_path)
    web_b = _web(database.url, redis_url, port_b, tmp_path)
    worker = _worker(_env(database.url, redis_url, tmp_path, "worker"))
    listeners = [Listener() for _ in tokens]
    try:
        _up(port_a)
        _up(port_b)
        for token, listener in zip(tokens, listeners, strict=True):
            listener.client.connect(
                f"http://127.0.0.1:{port_a}",
                namespaces=["/agents"],
                auth={"token": token},
                transports=["websocket"],
                wait_timeout=10,
            )
            response = requests.put(
                f"http://127.0.0.1:{port_a}/api/v1/agents/me/presence",
                headers={"Authorization": f"Bearer {token}"},
                json={"state": "available"},
                timeout=10,
            )
            assert response.status_code == 200, response.text
        # The whole process dies at once: gunicorn's worker (which holds the sockets) and master.
        for pid in (*_children(web_a.pid), web_a.pid):
            os.kill(pid, signal.SIGKILL)
        web_a.wait(timeout=10)
        deadline = time.monotonic() + 20
        while any(listener.client.connected for listener in listeners):
            assert time.monotonic() < deadline, "the sockets did not notice the process died"
            time.sleep(0.1)
        # The call arrives through B while the consoles are reconnecting.
        base_b = f"http://127.0.0.1:{port_b}"
        validator = RequestValidator("rt-token")
        form = {"CallSid": "CA" + "4" * 32, "From": "+33611223355", "To": "+15005550006"}
        for path, extra in (("/twilio/voice", {}), ("/twilio/voice/menu", {"Digits": "1"})):
            data = form | extra
            signature = validator.compute_signature(base_b + path, data)
            answer = requests.post(
                base_b + path, data=data, headers={"X-Twilio-Signature": signature}, timeout=10
            )
            assert answer.status_code == 200, answer.text
        # Reconnected to B, each console reloads its state: exactly one has the call ringing.
        for token, listener in zip(tokens, listeners, strict=True):
            listener.client.connect(
                base_b,
                namespaces=["/agents"],
                auth={"token": token},
                transports=["websocket"],
                wait_timeout=10,
            )
        ringing: list[tuple[str, dict]] = []
        deadline = time.monotonic() + 30
        while not ringing and time.monotonic() < deadline:
            for token in tokens:
                state = requests.get(
                    base_b + "/api/v1/agents/me/state",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                ).json()
                if state["ringing"]:
                    ringing.append((token, state["ringing"]))
            time.sleep(0.2)
        assert len(ringing) == 1, ringing
        token, offer = ringing[0]
        assert offer["call_sid"] == form["CallSid"]
        accepted = requests.post(
            f"{base_b}/api/v1/calls/{offer['call_id']}/accept",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert accepted.status_code == 200, accepted.text
    finally:
        for listener in listeners:
            if listener.client.connected:
                listener.client.disconnect()
        for proc in (web_a, web_b, worker):
            if proc.poll() is None:
                proc.terminate()
        for proc in (web_a, web_b, worker):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    engine = create_engine(database.url)
    with engine.connect() as conn:
        calls = conn.execute(select(Call.call_sid, Call.routing_state, Call.agent_id)).all()
        offers = conn.execute(select(func.count()).select_from(CallOffer)).scalar_one()
    engine.dispose()
    assert len(calls) == 1 and calls[0].routing_state == "connected", calls
    assert offers >= 1
    print(f"web killed: 1 call, {offers} offer(s), answered by agent {calls[0].agent_id}")
    database.reset()


def _redis_server(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    cmd += ["--appendonly", "no", "--dir", str(workdir)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis(port=port, socket_connect_timeout=0.2).ping()
            return proc
        except redis.RedisError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)


def test_redis_restarted_under_load_loses_no_call(settings, database, tmp_path):
    """A Redis of the test's own (never the shared one) is restarted, empty, while calls come
    in: every webhook is answered, every call is recorded once, and once Redis is back the
    waiting calls are offered and the screen pop reaches the console through the queue."""
    import socketio

    from helpdesk.auth import service as auth
    from helpdesk.auth.models import Role
    from telephony.models import CallQueue
    from tests.services.test_realtime_processes import _web

    redis_port = _port()
    own_redis = f"redis://127.0.0.1:{redis_port}/0"
    server = _redis_server(redis_port, tmp_path / "redis")
    settings.REDIS_URL = own_redis
    app = create_app(settings)
    with app.app_context():
        db.session.add(CallQueue(name="support", skills={"support": 1}))
        db.session.commit()
        user = auth.create_user(
            session=db.session,
            email="redis-agent@faults.example",
            password="longenough",
            role=Role.AGENT,
            skills={"support": 3},
            languages=["fr"],
        )
        token = auth.issue_token(session=db.session, user=user)
        db.session.remove()
        db.engine.dispose()
    port = _port()
    web = _web(database.url, own_redis, port, tmp_path)
    worker = _worker(_env(database.url, own_redis, tmp_path, "worker"))
    base = f"http://127.0.0.1:{port}"
    pops: list[dict] = []
    connects = []
    client = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=1)
    client.on("screen_pop", pops.append, namespace="/agents")
    client.on("connect", lambda: connects.append(time.monotonic()), namespace="/agents")
    validator = RequestValidator("rt-token")
    answers: dict[str, int] = {}

    def ring(sid: str) -> None:
        form = {"CallSid": sid, "From": f"+336119{int(sid[-4:]):05d}", "To": "+15005550006"}
        for path, extra in (("/twilio/voice", {}), ("/twilio/voice/menu", {"Digits": "1"})):
            data = form | extra
            signature = validator.compute_signature(base + path, data)
            response = requests.post(
                base + path, data=data, headers={"X-Twilio-Signature": signature}, timeout=15
            )
            answers[f"{sid}{path}"] = response.status_code

    sids = [f"CA{n:032d}" for n in range(1, 13)]
    try:
        _up(port)
        client.connect(
            base,
            namespaces=["/agents"],
            auth={"token": token},
            transports=["websocket"],
            wait_timeout=10,
        )
        headers = {"Authorization": f"Bearer {token}"}
        requests.put(
            base + "/api/v1/agents/me/presence",
            headers=headers,
            json={"state": "break"},
            timeout=10,
        )
        for sid in sids[:4]:
            ring(sid)
        server.terminate()
        server.wait(timeout=10)
        down = time.monotonic()
        for sid in sids[4:8]:  # Redis is down: the webhooks still answer
            ring(sid)
        down_s = time.monotonic() - down
        server = _redis_server(redis_port, tmp_path / "redis")  # back, and empty
        for sid in sids[8:]:
            ring(sid)
        # The websocket to the web process needs no Redis; only the process's subscription to
        # the queue was cut, and it resubscribes by itself (checked by the screen pop below).
        assert client.connected and len(connects) == 1, connects  # never dropped
        # The agent comes back from break: the calls waiting are offered one at a time.
        requests.put(
            base + "/api/v1/agents/me/presence",
            headers=headers,
            json={"state": "available"},
            timeout=10,
        )
        offered = None
        # The worker's consumer retries the broker with a growing back-off (2, 4, 6 ... up to
        # 30 s: kombu's ensure_connection), so it may reconnect up to 30 s after Redis is back;
        # the dispatch task and the offer follow.
        deadline = time.monotonic() + 60
        while offered is None:
            state = requests.get(base + "/api/v1/agents/me/state", headers=headers, timeout=10)
            offered = state.json()["ringing"]
            assert time.monotonic() < deadline, "no call was offered after Redis came back"
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while not any(p.get("call_sid") == offered["call_sid"] for p in pops):
            assert time.monotonic() < deadline, "the screen pop did not reach the console"
            time.sleep(0.1)
    finally:
        if client.connected:
            client.disconnect()
        for proc in (web, worker, server):
            if proc.poll() is None:
                proc.terminate()
        for proc in (web, worker, server):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert set(answers.values()) == {200}, answers
    engine = create_engine(database.url)
    with engine.connect() as conn:
        rows = conn.execute(select(Call.call_sid, Call.routing_state)).all()
    engine.dispose()
    assert sorted(r.call_sid for r in rows) == sids  # every call recorded, once
    states = [r.routing_state for r in rows]
    assert states.count("offered") == 1 and states.count("waiting") == len(sids) - 1, states
    print(
        f"redis restarted: {len(sids)} calls, all answered ({down_s:.1f} s for the 8 webhooks "
        f"while Redis was down), 1 offered, {len(sids) - 1} waiting"
    )
    database.reset()
