"""The first production start, as docs/operations.md ("First production start") describes it:
an empty PostgreSQL database and no demo data; the Procfile's `release` line; an admin and two
agents made with the CLI; `helpdesk check`; then the Procfile's web (twice), worker, beat
and sockets lines, started from a fresh working directory with no `instance/` folder. A caller
goes through the IVR with signed webhooks and an agent connected on a socket (to the sockets
process) takes the call."""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from tests.conftest import PG_ADMIN_URL, PG_UP, require_service
from tests.services.formation import Processes, free_port, procfile, wait_until

BIN = Path(sys.executable).parent  # where `helpdesk` and `gunicorn` are installed
PUBLIC = "https://help.example.test"  # the load balancer's address, which Twilio signs
AUTH_TOKEN = "first-start-twilio-token"
PASSWORD = "a long first password"


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A PostgreSQL database just created by the operator: no schema, no data."""
    require_service("PostgreSQL", PG_UP)
    name = f"helpdesk_first_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Agent:
    """An agent's console, reduced to its API token and its socket."""

    def __init__(self, base: str, email: str, live: str) -> None:
        r = requests.post(
            f"{base}/api/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=10
        )
        assert r.status_code == 201, r.text
        self.token = r.json()["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.cond = threading.Condition()
        # As the console's page, served from the public address (Socket.IO checks the origin).
        self.socket = socketio.Client(
            reconnection=False, websocket_extra_options={"origin": PUBLIC}
        )
        self.socket.on("*", self._any, namespace="/agents")
        self.socket.connect(
            live,
            namespaces=["/agents"],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=10,
        )

    def _any(self, name: str, data: dict[str, Any]) -> None:
        with self.cond:
            self.events.append((name, data))
            self.cond.notify_all()

    def named(self, name: str) -> list[dict[str, Any]]:
        with self.cond:
            return [d for n, d in self.events if n == name]

    def wait_for(self, name: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for n, d in self.events:
                    if n == name:
                        return d
                left = deadline - time.monotonic()
                assert left > 0, f"no {name} in {[n for n, _ in self.events]}"
                self.cond.wait(left)


def _webhook(base: str, path: str, form: dict[str, str]) -> requests.Response:
    """Twilio's request: signed over the public address, delivered to one web process."""
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, form)
    return requests.post(
        base + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=15
    )


def test_first_production_start(empty_database, redis_url, tmp_path):
    lines = procfile()
    home = tmp_path / "srv"  # the working directory: nothing in it, no instance/
    home.mkdir()
    instance = tmp_path / "var" / "helpdesk"  # HELPDESK_INSTANCE_PATH, not created yet
    logs = tmp_path / "logs"
    logs.mkdir()
    # Step 1 of the docs: the environment, the same for every process; .venv/bin on the PATH.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "TWILIO_"))} | {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": empty_database,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "first-production-start-" + uuid.uuid4().hex,
        "PUBLIC_BASE_URL": PUBLIC,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HELPDESK_INSTANCE_PATH": str(instance),
        "WEB_THREADS": "32",
        "PYTHONUNBUFFERED": "1",
    }
    procs = Processes(home, env, logs)

    # Step 2: schema and the IVR's queues, the Procfile's release line.
    out = procs.run(lines["release"])
    assert "created queue support (IVR key 1)" in out
    assert "created queue billing (IVR key 2)" in out
    # Step 3: staff, with the CLI.
    procs.run(
        f"helpdesk users create --email admin@example.test --password '{PASSWORD}' --role admin"
    )
    for n in (1, 2):
        procs.run(
            f"helpdesk users create --email agent{n}@example.test --password '{PASSWORD}' "
            f"--role agent --skills support:3,billing:2 --languages fr,en"
        )
    # Step 4: the installation checks out.
    out = procs.run("helpdesk check")
    assert "IVR: every queue key leads to an active queue" in out and "FAIL" not in out
    assert not instance.joinpath("celerybeat-schedule").exists()

    port_a, port_b, port_live = free_port(), free_port(), free_port()
    a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    live = f"http://127.0.0.1:{port_live}"
    agents: list[Agent] = []
    try:
        # Step 5: the Procfile's long-running lines, web twice (each one worker per core), the
        # sockets process, one worker, one beat.
        procs.start("web-a", lines["web"], PORT=str(port_a))
        procs.start("web-b", lines["web"], PORT=str(port_b))
        procs.start("sockets", lines["sockets"], SOCKETS_PORT=str(port_live))
        procs.start("worker", lines["worker"])
        procs.start("beat", lines["beat"])
        # No mailbox in this deployment: the `mail` line waits, and must not end the formation.
        procs.start("mail", lines["mail"])
        for base in (a, b, live):
            health = wait_until(
                f"{base}/healthz",
                lambda base=base: requests.get(f"{base}/healthz", timeout=5).json(),
                procs,
            )
            assert health["status"] == "ok", health
            assert health["ivr"] == {"ok": True, "dead_keys": []}
            assert health["broker"]["backend"] == "redis"
        wait_until(
            "beat's schedule under the instance path",
            lambda: list(instance.glob("celerybeat-schedule*")),
            procs,
        )
        assert not (home / "instance").exists()

        # Step 6: two agents sign in, one console on each web process, and make themselves
        # available.
        # Their consoles' live connections go to the sockets process, as the proxy routes
        # /socket.io/ there.
        agents = [Agent(a, "agent1@example.test", live), Agent(b, "agent2@example.test", live)]
        for agent in agents:
            r = requests.put(
                f"{a}/api/v1/agents/me/presence",
                headers=agent.headers,
                json={"state": "available"},
                timeout=10,
            )
            assert r.status_code == 200, r.text

        # A caller: language (2, English), then menu key 1 (support), through web A.
        call_sid = "CA" + uuid.uuid4().hex
        form = {"CallSid": call_sid, "From": "+33612345678", "To": "+15005550006"}
        r = _webhook(a, "/twilio/voice", form | {"CallStatus": "ringing"})
        assert r.status_code == 200 and "<Gather" in r.text, r.text
        r = _webhook(a, "/twilio/voice/language", form | {"Digits": "2"})
        assert r.status_code == 200 and "For support, press 1" in r.text, r.text
        r = _webhook(a, "/twilio/voice/menu", form | {"Digits": "1"})
        assert r.status_code == 200, r.text
        assert ">support</Enqueue>" in r.text, r.text

        # The worker offers the call to one agent, whose socket rings; they take it on the
        # other web process.
        offered = wait_until(
            "an offer on an agent's socket",
            lambda: next(
                ((ag, ag.named("call.offer")) for ag in agents if ag.named("call.offer")), None
            ),
            procs,
            timeout=30,
        )
        taker, offers = offered
        other = agents[1] if taker is agents[0] else agents[0]
        assert [o["call_sid"] for o in offers] == [call_sid]
        assert offers[0]["queue"] == "support"
        call_id = offers[0]["call_id"]
        r = requests.post(
            f"{b if taker is agents[0] else a}/api/v1/calls/{call_id}/accept",
            headers=taker.headers,
            timeout=15,
        )
        assert r.status_code == 200, r.text
        connected = taker.wait_for("call.connected")
        assert connected["call_id"] == call_id
        time.sleep(1.0)  # talk

        # The caller hangs up: Twilio's status callback, through web B.
        r = _webhook(
            b, "/twilio/voice/status", form | {"CallStatus": "completed", "CallDuration": "9"}
        )
        assert r.status_code == 204, r.text

        # The account of the call, read by the admin.
        admin = requests.post(
            f"{a}/api/v1/auth/token",
            json={"email": "admin@example.test", "password": PASSWORD},
            timeout=10,
        ).json()["token"]
        call = requests.get(
            f"{b}/api/v1/calls/{call_id}",
            headers={"Authorization": f"Bearer {admin}"},
            timeout=10,
        ).json()
        presence = requests.get(
            f"{a}/api/v1/agents/me/presence", headers=taker.headers, timeout=10
        ).json()
        assert call["queue"] == "support"
        assert call["ivr_path"][-1] == "menu:1:queue"
        assert call["outcome"] == "answered" and call["ended_at"] is not None
        assert call["status"] == "completed"
        assert call["agent_id"] == presence["user_id"]
        assert call["wait_seconds"] is not None and call["wait_seconds"] >= 0
        assert call["talk_seconds"] is not None and call["talk_seconds"] >= 1.0
        assert presence["state"] == "wrap_up", presence
        assert other.named("call.offer") == []
        queues = requests.get(
            f"{a}/api/v1/queues", headers={"Authorization": f"Bearer {admin}"}, timeout=10
        ).json()["items"]
        assert {q["name"]: q["waiting"] for q in queues} == {"billing": 0, "support": 0}
        procs.alive()  # beat included: it ran the periodic jobs all along
        assert "no mailbox to read; waiting until stopped" in procs.log("mail")
    finally:
        for agent in agents:
            if agent.socket.connected:
                agent.socket.disconnect()
        procs.stop()
