"""Events raised in one web process, or in a Celery worker, reach a real Socket.IO client that
is connected to another web process, through Redis; a reconnecting agent gets its snapshot."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import socketio
from sqlalchemy import create_engine, text

from helpdesk.app import create_app
from helpdesk.auth import service as auth
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from telephony.models import CallQueue

ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(url: str, redis_url: str, tmp: Path, name: str) -> dict[str, str]:
    # Each web process is reached directly here (no load balancer), so its public address, which
    # Socket.IO accepts as the origin and Twilio signs, is its own.
    public = f"http://127.0.0.1:{name}" if name.isdigit() else "http://127.0.0.1:5000"
    return os.environ | {
        "PUBLIC_BASE_URL": public,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "shared-secret",
        "TWILIO_AUTH_TOKEN": "rt-token",
        "HELPDESK_INSTANCE_PATH": str(tmp / name),
        "HELPDESK_SCHEDULER": "false",
    }


def _web(url: str, redis_url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--no-control-socket",
        "--worker-class",
        "gthread",
        "--workers",
        "1",
        "--threads",
        "16",
        "--bind",
        f"127.0.0.1:{port}",
        "helpdesk.wsgi:app",
    ]
    return subprocess.Popen(
        cmd,
        env=_env(url, redis_url, tmp, str(port)),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"web process on {port} did not start")


class Listener:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []
        self.cond = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._any, namespace="/agents")

    def _any(self, name: str, data: dict) -> None:
        with self.cond:
            self.events.append((name, data))
            self.cond.notify_all()

    def wait_for(self, name: str, predicate=lambda d: True, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for n, d in self.events:
                    if n == name and predicate(d):
                        return d
                left = deadline - time.monotonic()
                assert left > 0, f"no {name} in {[n for n, _ in self.events]}"
                self.cond.wait(left)


def test_events_cross_processes_and_reconnect_snapshot(settings, database, redis_url, tmp_path):
    settings.REDIS_URL = redis_url  # this process sends tasks to the worker through Redis
    app = create_app(settings)
    with app.app_context():
        db.session.add(CallQueue(name="support", skills={"support": 1}))
        db.session.commit()
        user = auth.create_user(
            session=db.session,
            email="rt@example.com",
            password="longenough",
            role=Role.SUPERVISOR,
            skills={"support": 3},
            languages=["fr"],
        )
        token = auth.issue_token(session=db.session, user=user)
        db.session.remove()
        db.engine.dispose()
    port_a, port_b = _port(), _port()
    procs = [_web(database.url, redis_url, p, tmp_path) for p in (port_a, port_b)]
    worker = subprocess.Popen(
        [
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
        ],
        env=_env(database.url, redis_url, tmp_path, "worker"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    listener = Listener()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        _up(port_a)
        _up(port_b)
        listener.client.connect(
            f"http://127.0.0.1:{port_b}",
            namespaces=["/agents"],
            auth={"token": token},
            transports=["websocket"],
            wait_timeout=10,
        )
        # An integration follows every ticket (they are not broadcast to every console).
        ack = listener.client.call(
            "watch", {"kind": "feed", "id": "tickets"}, namespace="/agents", timeout=10
        )
        assert ack == {"ok": True, "room": "feed:tickets"}, ack
        # 1. Raised in web process A, received on B.
        customer = requests.post(
            f"http://127.0.0.1:{port_a}/api/v1/customers",
            headers=headers,
            json={"name": "Realtime", "phones": [{"number": "0611223344"}]},
            timeout=10,
        ).json()
        ticket = requests.post(
            f"http://127.0.0.1:{port_a}/api/v1/tickets",
            headers=headers,
            json={"subject": "Across", "requester_id": customer["id"]},
            timeout=10,
        ).json()
        got = listener.wait_for("ticket.created", lambda d: d["ticket_id"] == ticket["id"])
        assert got["reference"] == ticket["reference"]
        # 2. Raised in the Celery worker (closing a long-solved ticket), received on B.
        requests.patch(
            f"http://127.0.0.1:{port_a}/api/v1/tickets/{ticket['id']}",
            headers=headers,
            json={"status": "solved"},
            timeout=10,
        )
        engine = create_engine(database.url)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE tickets SET solved_at = now() - interval '30 days' WHERE id = :id"),
                {"id": ticket["id"]},
            )
        engine.dispose()
        app.extensions["celery"].send_task("helpdesk.tickets.tasks.auto_close_solved")
        listener.wait_for(
            "ticket.updated", lambda d: d["ticket_id"] == ticket["id"] and d["status"] == "closed"
        )
        # 3. A call is offered while the agent's socket is down: the snapshot has it.
        listener.client.disconnect()
        requests.put(
            f"http://127.0.0.1:{port_a}/api/v1/agents/me/presence",
            headers=headers,
            json={"state": "available"},
            timeout=10,
        )
        from twilio.request_validator import RequestValidator

        form = {"CallSid": "CA" + "7" * 32, "From": "+33611223344", "To": "+15005550006"}
        for path, extra in (("/twilio/voice", {}), ("/twilio/voice/menu", {"Digits": "1"})):
            data = form | extra
            sig = RequestValidator("rt-token").compute_signature(
                f"http://127.0.0.1:{port_a}" + path, data
            )
            r = requests.post(
                f"http://127.0.0.1:{port_a}{path}",
                data=data,
                timeout=10,
                headers={"X-Twilio-Signature": sig},
            )
            assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30
        while True:  # the dispatch runs in the worker
            state = requests.get(
                f"http://127.0.0.1:{port_b}/api/v1/agents/me/state", headers=headers, timeout=10
            ).json()
            if state["ringing"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert state["ringing"]["call_sid"] == form["CallSid"]
        assert state["ringing"]["customer"]["name"] == "Realtime"
        relistener = Listener()
        relistener.client.connect(
            f"http://127.0.0.1:{port_a}",
            namespaces=["/agents"],
            auth={"token": token},
            transports=["websocket"],
            wait_timeout=10,
        )
        relistener.client.disconnect()
    finally:
        if listener.client.connected:
            listener.client.disconnect()
        for proc in (*procs, worker):
            proc.terminate()
        for proc in (*procs, worker):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    database.reset()
