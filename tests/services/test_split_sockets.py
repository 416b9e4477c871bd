"""The scaled-out server model: the Procfile's `web` line (two gunicorn workers) for pages, API
and webhooks, and its `sockets` line for the live connection, sharing the Redis message queue.

A console client connected to the sockets process receives what a request to a web process
causes; each half refuses what the other serves; the sockets process checks the handshake's
origin as the console's pages send it (another port, either loopback name); and with the web
processes saturated by API requests, screen pops still reach the console within their budget.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from flask_socketio import SocketIO

from helpdesk.app import create_app
from helpdesk.auth import service as auth
from helpdesk.auth.models import Role
from helpdesk.customers import service as customers
from helpdesk.extensions import db
from helpdesk.socketqueue import RedisQueue
from tests.services.formation import Processes, free_port, procfile, wait_until

BIN = Path(sys.executable).parent
POP_BUDGET_S = 1.0  # each screen pop, with the API saturated; the benchmark measures the real p99
LOAD_CLIENTS = 24  # API requests in flight, three times the web processes' 2 x 4 threads
LOAD_S = 6.0


@dataclass
class Formation:
    procs: Processes
    web: str
    live: str
    web_port: int
    token: str
    user_id: int
    customer_id: int
    admin_token: str


@pytest.fixture
def formation(settings, database, redis_url, tmp_path) -> Iterator[Formation]:
    app = create_app(settings)
    with app.app_context():
        user = auth.create_user(
            session=db.session,
            email=f"split-{uuid.uuid4().hex[:8]}@example.com",
            password="longenough",
            role=Role.AGENT,
            skills={"support": 3},
            languages=["fr"],
        )
        token = auth.issue_token(session=db.session, user=user)
        admin = auth.create_user(
            session=db.session,
            email=f"split-admin-{uuid.uuid4().hex[:8]}@example.com",
            password="longenough",
            role=Role.ADMIN,
        )
        admin_token = auth.issue_token(session=db.session, user=admin)
        customer = customers.create(db.session, name="Split Caller")
        db.session.commit()
        user_id, customer_id = user.id, customer.id
        db.session.remove()
        db.engine.dispose()
    web_port, live_port = free_port(), free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "TWILIO_"))} | {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": database.url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "split-secret",
        "TWILIO_AUTH_TOKEN": "split-token",
        # No proxy: the console is on the web port and connects to the sockets port directly.
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "SOCKETS_PUBLIC_URL": f"http://127.0.0.1:{live_port}",
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "instance"),
        "HELPDESK_SCHEDULER": "false",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
        "SOCKETS_THREADS": "64",
        "PYTHONUNBUFFERED": "1",
    }
    procs = Processes(tmp_path, env, logs)
    lines = procfile()
    try:
        procs.start("web", lines["web"], PORT=str(web_port))
        procs.start("sockets", lines["sockets"], SOCKETS_PORT=str(live_port))
        web, live = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{live_port}"
        for base in (web, live):
            wait_until(
                f"{base}/healthz",
                lambda base=base: requests.get(f"{base}/healthz", timeout=5).ok,
                procs,
            )
        yield Formation(procs, web, live, web_port, token, user_id, customer_id, admin_token)
    finally:
        procs.stop()
        # The tickets and users made here must not be found by the next test on this database.
        database.reset()


class Console:
    """A console page's live connection, as python-socketio makes it with the page's Origin."""

    def __init__(self, url: str, token: str, origin: str | None) -> None:
        self.events: list[tuple[str, dict[str, Any], float]] = []
        self.cond = threading.Condition()
        options = {"origin": origin} if origin else {}
        self.client = socketio.Client(reconnection=False, websocket_extra_options=options)
        self.client.on("*", self._any, namespace="/agents")
        self.closed = threading.Event()
        self.client.on("disconnect", lambda *_: self.closed.set(), namespace="/agents")
        self.client.connect(
            url,
            namespaces=["/agents"],
            auth={"token": token},
            transports=["websocket"],
            wait_timeout=10,
        )

    def _any(self, name: str, data: dict[str, Any]) -> None:
        with self.cond:
            self.events.append((name, data, time.time()))
            self.cond.notify_all()

    def wait_for(self, name: str, predicate: Any, timeout: float = 15) -> tuple[dict, float]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for n, d, at in self.events:
                    if n == name and predicate(d):
                        return d, at
                left = deadline - time.monotonic()
                assert left > 0, f"no {name} in {[n for n, _, _ in self.events]}"
                self.cond.wait(left)

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def test_each_half_serves_its_own_and_events_cross(formation):
    f = formation
    # The web line runs one gunicorn worker per core (WEB_CONCURRENCY=2), the sockets line one.
    assert len(f.procs.children("web")) == 2
    assert len(f.procs.children("sockets")) == 1

    # The sockets process serves no API, page or webhook; it answers its operator's paths.
    headers = {"Authorization": f"Bearer {f.token}"}
    for path in ("/api/v1/tickets", "/login", "/twilio/voice"):
        r = requests.get(f.live + path, headers=headers, timeout=5)
        assert r.status_code == 404, path
        assert "only the live connection" in r.json()["error"]["message"]
    assert requests.get(f.live + "/healthz", timeout=5).json()["database"]["ok"]
    assert "helpdesk_socket_connections" in requests.get(f.live + "/metrics", timeout=5).text

    # The web processes serve no Socket.IO, in either transport.
    r = requests.get(f.web + "/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=5)
    assert r.status_code == 404
    assert "sockets processes" in r.json()["error"]["message"]
    with pytest.raises(socketio.exceptions.ConnectionError):
        Console(f.web, f.token, origin=f.web)
    assert requests.get(f.web + "/api/v1/tickets", headers=headers, timeout=5).status_code == 200

    # The console's pages come from the web port, under either loopback name: both pass the
    # sockets process's origin check, a foreign page does not.
    consoles = [
        Console(f.live, f.token, origin=f"http://localhost:{f.web_port}"),
        Console(f.live, f.token, origin=f"http://127.0.0.1:{f.web_port}"),
    ]
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            Console(f.live, f.token, origin="https://evil.example")
        with pytest.raises(socketio.exceptions.ConnectionError):
            Console(f.live, f.token, origin=f"https://localhost:{f.web_port}")  # other scheme

        # A ticket assigned to the agent, created through a web process, reaches their console
        # on the sockets process.
        r = requests.post(
            f.web + "/api/v1/tickets",
            headers=headers,
            json={"subject": "Split", "requester_id": f.customer_id, "assignee_id": f.user_id},
            timeout=10,
        )
        assert r.status_code == 201, r.text
        ticket_id = r.json()["id"]
        for console in consoles:
            console.wait_for("ticket.created", lambda d: d["ticket_id"] == ticket_id)

        # Revoking the token through a web process closes its connections on the sockets
        # process at once (the web process publishes the closing on the queue).
        r = requests.delete(
            f"{f.web}/api/v1/users/{f.user_id}/tokens",
            headers={"Authorization": f"Bearer {f.admin_token}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        for console in consoles:
            assert console.closed.wait(10), "a revoked token's connection stayed open"
    finally:
        for console in consoles:
            console.close()


def _saturate(web: str, token: str, stop: threading.Event, done: list[float]) -> None:
    """One client of the load: ticket lists and creates back to back, until told to stop."""
    headers = {"Authorization": f"Bearer {token}"}
    with requests.Session() as http:
        while not stop.is_set():
            started = time.monotonic()
            r = http.get(f"{web}/api/v1/tickets?limit=100", headers=headers, timeout=30)
            assert r.status_code == 200
            done.append(time.monotonic() - started)


def test_screen_pops_keep_their_budget_while_the_api_is_saturated(formation, redis_url):
    f = formation
    console = Console(f.live, f.token, origin=f"http://localhost:{f.web_port}")
    # Screen pops are published as a Celery worker publishes them: a write-only emitter on the
    # Redis queue, to the agent's room.
    emitter = SocketIO(
        message_queue=redis_url,
        client_manager=RedisQueue(redis_url, channel="flask-socketio", write_only=True),
        write_only=True,
    )
    stop = threading.Event()
    latencies: list[float] = []
    idle = []
    headers = {"Authorization": f"Bearer {f.token}"}
    for _ in range(5):
        started = time.monotonic()
        requests.get(f"{f.web}/api/v1/tickets?limit=100", headers=headers, timeout=10)
        idle.append(time.monotonic() - started)
    load = [
        threading.Thread(target=_saturate, args=(f.web, f.token, stop, latencies), daemon=True)
        for _ in range(LOAD_CLIENTS)
    ]
    delays: list[float] = []
    try:
        for thread in load:
            thread.start()
        time.sleep(1.0)  # the load reaches its pace
        end = time.monotonic() + LOAD_S
        n = 0
        while time.monotonic() < end:
            n += 1
            sent = time.time()
            emitter.emit(
                "screen_pop", {"call_sid": f"CA{n}"}, to=f"user:{f.user_id}", namespace="/agents"
            )
            _, at = console.wait_for(
                "screen_pop", lambda d, n=n: d["call_sid"] == f"CA{n}", timeout=10
            )
            delays.append(at - sent)
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in load:
            thread.join(timeout=30)
        console.close()
    # The API was saturated: more requests in flight than threads, each waiting its turn.
    assert len(latencies) > LOAD_CLIENTS
    assert statistics.median(latencies) > 2 * statistics.median(idle), (latencies, idle)
    assert len(delays) >= 20
    assert max(delays) < POP_BUDGET_S, sorted(delays)[-5:]
