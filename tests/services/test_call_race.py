"""A race: 200 calls arrive at once on two web processes sharing PostgreSQL, 20 agents answer.

Every call must be offered to exactly one agent at a time, no agent may hold two offers or calls
at once, and every call must end with a recorded outcome.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from helpdesk.app import create_app
from helpdesk.auth import service as auth
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from telephony.models import CallQueue

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "race-auth-token"
CALLS, AGENTS = 200, 20


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_web(url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DATABASE_URL": url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "SECRET_KEY": "race",
        "PUBLIC_BASE_URL": "http://public.test",
        "HELPDESK_INSTANCE_PATH": str(tmp / str(port)),
        "HELPDESK_SCHEDULER": "false",
        "PORT": str(port),
    }
    env.pop("REDIS_URL", None)
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
        "32",
        "--bind",
        f"127.0.0.1:{port}",
        "helpdesk.wsgi:app",
    ]
    return subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _wait_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"web process on {port} did not start")


def _signed(port: int, path: str, form: dict[str, str]) -> requests.Response:
    sig = RequestValidator(TOKEN).compute_signature("http://public.test" + path, form)
    return requests.post(
        f"http://127.0.0.1:{port}{path}", data=form, timeout=30, headers={"X-Twilio-Signature": sig}
    )


def test_two_processes_200_calls_20_agents(settings, database, tmp_path):
    app = create_app(settings)
    with app.app_context():
        db.session.add(
            CallQueue(name="support", skills={"support": 1}, ring_timeout_s=60, wrap_up_s=0)
        )
        db.session.commit()
        tokens = []
        for i in range(AGENTS):
            user = auth.create_user(
                session=db.session,
                email=f"racer{i}@example.com",
                password="longenough",
                role=Role.AGENT,
                skills={"support": 2},
                languages=["fr", "en"],
            )
            tokens.append(auth.issue_token(session=db.session, user=user))
        db.session.remove()
        db.engine.dispose()
    ports = [_port(), _port()]
    procs = [_start_web(database.url, p, tmp_path) for p in ports]
    try:
        for p in ports:
            _wait_up(p)
        _run_race(ports, tokens)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
    _check(database.url)
    database.reset()


def _run_race(ports: list[int], tokens: list[str]) -> None:
    for i, token in enumerate(tokens):
        r = requests.put(
            f"http://127.0.0.1:{ports[i % 2]}/api/v1/agents/me/presence",
            json={"state": "available"},
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text

    def caller(i: int) -> None:
        port = ports[i % 2]
        form = {
            "CallSid": f"CA{i:032d}",
            "From": f"+336{10000000 + i}",
            "To": "+15005550006",
            "CallStatus": "ringing",
        }
        assert _signed(port, "/twilio/voice", form).status_code == 200
        assert _signed(port, "/twilio/voice/language", form | {"Digits": "1"}).status_code == 200
        r = _signed(port, "/twilio/voice/menu", form | {"Digits": "1"})
        assert r.status_code == 200 and "<Enqueue" in r.text

    with ThreadPoolExecutor(max_workers=40) as pool:
        list(pool.map(caller, range(CALLS)))

    answered: set[int] = set()
    lock = threading.Lock()
    deadline = time.monotonic() + 180

    def agent(i: int) -> None:
        port = ports[i % 2]
        headers = {"Authorization": f"Bearer {tokens[i]}"}
        base = f"http://127.0.0.1:{port}/api/v1"
        while time.monotonic() < deadline:
            with lock:
                if len(answered) >= CALLS:
                    return
            me = requests.get(f"{base}/agents/me/presence", headers=headers, timeout=10).json()
            if me["state"] != "reserved" or not me["current_call_id"]:
                time.sleep(0.05)
                continue
            call_id = me["current_call_id"]
            r = requests.post(f"{base}/calls/{call_id}/accept", headers=headers, timeout=10)
            assert r.status_code == 200, r.text
            sid = r.json()["call_sid"]
            # Twilio's part: the conversation ends, the status callback arrives.
            assert (
                _signed(
                    port, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "completed"}
                ).status_code
                == 204
            )
            r = requests.post(
                f"{base}/calls/{call_id}/wrap-up",
                headers=headers,
                timeout=10,
                json={"disposition": "resolved", "done": True},
            )
            assert r.status_code == 200, r.text
            with lock:
                answered.add(call_id)

    with ThreadPoolExecutor(max_workers=AGENTS) as pool:
        list(pool.map(agent, range(AGENTS)))
    assert len(answered) == CALLS


def _check(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        outcomes = dict(
            conn.execute(text("SELECT outcome, count(*) FROM calls GROUP BY outcome")).all()
        )
        offers = conn.execute(
            text(
                "SELECT call_id, agent_id, state, created_at, decided_at FROM call_offers "
                "ORDER BY created_at"
            )
        ).all()
    engine.dispose()
    assert outcomes == {"answered": CALLS}
    by_call: dict[int, list] = defaultdict(list)
    by_agent: dict[int, list] = defaultdict(list)
    for call_id, agent_id, state, start, end in offers:
        assert end is not None, "an offer was left pending"
        by_call[call_id].append((start, end, state))
        by_agent[agent_id].append((start, end, state))
    assert len(by_call) == CALLS
    for intervals in (*by_call.values(), *by_agent.values()):
        intervals.sort()
        for (_, end1, _), (start2, _, _) in pairwise(intervals):
            assert start2 >= end1, "two offers overlapped"
    for intervals in by_call.values():
        assert sum(1 for *_, state in intervals if state == "accepted") == 1
