"""Call-control latency: from the agent's click to the Twilio request, and to the caller's state
changed in the simulator.

One call is answered by one agent, in process (Flask's test client, SQLite in a temporary
folder), then put on hold and taken back, `holds` times each way, through
`POST /api/v1/calls/{id}/hold` (what the console's button ends in):

1. Twilio: the gateway is the Twilio one, its REST client a stand-in that notes the instant the
   Participants update is issued (no network: the request's own time is Twilio's). The figure
   runs from the API request's start to that instant.
2. Simulator: the built-in simulator plays the caller. The figure runs from the API request's
   start to the instant the simulated caller's hold state has changed and, on hold, the hold
   prompt has been fetched from `/twilio/voice/on-hold` (what the caller hears).

Targets (issue 21): p95 <= 50 ms for the first, <= 200 ms for the second.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from typing import Any

from bench import machine
from bench.inprocess import application
from helpdesk.migrate import upgrade

TOKEN = "bench-auth-token"


@dataclass(frozen=True)
class Options:
    holds: int = 200
    warmup: int = 10


class _Stamp:
    """A Twilio REST client stand-in: `conferences(name).participants(sid).update(...)`, noting
    when the update is issued."""

    def __init__(self) -> None:
        self.at = 0.0

    def conferences(self, _name: str) -> Any:
        return self

    def participants(self, _sid: str) -> Any:
        return self

    def update(self, **_kwargs: Any) -> None:
        self.at = time.perf_counter()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _answered_call(app: Any) -> tuple[Any, int, str, Any]:
    """An agent, a queue, a caller in it, answered: (API client, call id, CallSid, simulator)."""
    from helpdesk.auth import service as auth
    from helpdesk.extensions import db
    from telephony.models import Call, CallQueue

    with app.app_context():
        db.session.add(CallQueue(name="support", skills={"support": 1}, wrap_up_s=5))
        db.session.commit()
        agent = auth.create_user(
            session=db.session,
            email="bench.agent@helpdesk-demo.org",
            password="bench password 1234",
            role="agent",
            name="Bench Agent",
            skills={"support": 3},
            languages=["fr", "en"],
        )
        token = auth.issue_token(session=db.session, user=agent)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    client.put("/api/v1/agents/me/presence", json={"state": "available"}, headers=headers)
    sim = app.extensions["telephony_simulator"]
    with app.app_context():
        placed = sim.call("+33612345678", digits="11")
        call_id = db.session.scalar(db.select(Call.id).where(Call.call_sid == placed.call_sid))
    answer = client.post(f"/api/v1/calls/{call_id}/accept", headers=headers)
    if answer.status_code != 200:
        raise RuntimeError(f"accept failed: {answer.status_code} {answer.text}")
    return (client, headers), int(call_id), placed.call_sid, sim


def _toggle(api: Any, call_id: int, hold: bool) -> float:
    client, headers = api
    started = time.perf_counter()
    answer = client.post(f"/api/v1/calls/{call_id}/hold", json={"hold": hold}, headers=headers)
    if answer.status_code != 200:
        raise RuntimeError(f"hold failed: {answer.status_code} {answer.text}")
    return started


def _measure(app: Any, opts: Options, *, twilio: bool) -> list[float]:
    from telephony.gateway import TwilioGateway

    api, call_id, call_sid, sim = _answered_call(app)
    stamp = _Stamp()
    if twilio:
        app.extensions["telephony_gateway"] = TwilioGateway(stamp)
    caller = sim.calls[call_sid]
    changed = {"at": 0.0}
    original = sim.gateway_hold

    def noted(**kwargs: Any) -> None:
        original(**kwargs)
        if caller.on_hold == (kwargs["hold"] == "true"):
            changed["at"] = time.perf_counter()

    sim.gateway_hold = noted
    out: list[float] = []
    for i in range(opts.warmup + 2 * opts.holds):
        started = _toggle(api, call_id, hold=i % 2 == 0)
        done = stamp.at if twilio else changed["at"]
        if i >= opts.warmup:
            out.append((done - started) * 1000)
    return out


def run(opts: Options) -> None:
    print(f"Call controls: load average {machine.load_average()}")
    for twilio in (True, False):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/controls.sqlite3"
            upgrade(url)
            extra = {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": "http://localhost"}
            with application(url, extra) as app:
                ms = _measure(app, opts, twilio=twilio)
        what = "click -> Twilio request" if twilio else "click -> caller's state (simulator)"
        target = 50 if twilio else 200
        p50, p95, p99 = (_pct(ms, q) for q in (0.5, 0.95, 0.99))
        print(
            f"  {what}: {len(ms)} clicks, p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
            f"p99 {p99:.1f} ms, max {max(ms):.1f} ms (target p95 <= {target} ms)"
        )
