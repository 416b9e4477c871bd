"""What one whole call costs the application: CPU, SQL statements and Redis round trips per step.

The screen-pop benchmark (`bench/screenpop.py`) measures latency across processes, where the
machine's load from one minute to the next blurs small changes. This one runs the same call in
this process, on the same PostgreSQL data (one customer with a long history, agents on the
support queue) and with Redis as the scaled-out deployment has it (Celery broker, Socket.IO
queue, live statistics): the signed menu webhook that queues the caller, the dispatch a worker
runs (which offers the call and builds the caller screen), the agent's accept, the completed
status callback and the wrap-up. For each step it counts the thread's CPU time, the statements
sent to PostgreSQL and the round trips to Redis. Those counts do not depend on the machine's
speed, and two versions of the code compare on them fairly when run one after the other.

Loopback only, bounded in count; the database and Redis keys are the benchmark's own.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import event, select
from tqdm import tqdm

from bench import machine, pg
from bench.foundation import RESULTS
from bench.inprocess import application
from bench.report import Figure, Run, save
from bench.screenpop import CUSTOMER_NUMBER, SECRET, TOKEN, redis_url, seed
from bench.screenpop import Options as PopOptions
from bench.voice import Calls

DB = "helpdesk_bench_callcost"
STEPS = ("menu", "dispatch", "accept", "status", "wrap-up")


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    calls: int = 150
    warmup: int = 10
    agents: int = 40
    timeline: int = 5_000
    keep: bool = False


@dataclass
class Tally:
    """Per step: how many times it ran, CPU seconds, SQL statements and Redis round trips."""

    runs: int = 0
    cpu_s: float = 0.0
    statements: int = 0
    round_trips: int = 0


class Counters:
    """Counts statements on the app's engine and round trips on every Redis connection."""

    def __init__(self) -> None:
        self.statements = 0
        self.round_trips = 0

    def install(self, engine: Any) -> Callable[[], None]:
        from redis.connection import AbstractConnection

        original = AbstractConnection.send_packed_command
        counters = self

        def counted(conn: Any, *args: Any, **kwargs: Any) -> Any:
            counters.round_trips += 1  # a command or a whole pipeline: one send, one round trip
            return original(conn, *args, **kwargs)

        def statement(*_args: Any) -> None:
            self.statements += 1

        AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
        event.listen(engine, "before_cursor_execute", statement)

        def remove() -> None:
            AbstractConnection.send_packed_command = original  # type: ignore[method-assign]
            event.remove(engine, "before_cursor_execute", statement)

        return remove


def run(opts: Options) -> Run:
    from helpdesk.extensions import db
    from helpdesk.migrate import upgrade
    from telephony.models import Call
    from telephony.tasks import _dispatch_once

    server = pg.server_url()
    rurl = redis_url()
    redis.Redis.from_url(rurl).flushdb()
    current = Run(options=opts, machine=machine.describe(server))
    pg.drop_database(server, DB)
    pg.create_database(server, DB)
    url = pg.sqlalchemy_url(server, DB)
    upgrade(url)
    try:
        seeded = seed(url, PopOptions(agents=opts.agents, timeline=opts.timeline, sockets=0))
        extra = {
            "REDIS_URL": rurl,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PUBLIC_BASE_URL": "http://localhost",
            "SECRET_KEY": SECRET,
        }
        tallies: dict[str, Tally] = defaultdict(Tally)
        with application(url, extra) as app:
            client = app.test_client()
            with app.app_context():
                engine = db.engine
            counters = Counters()
            remove = counters.install(engine)
            tokens = dict(seeded.agents)
            for _uid, token in seeded.agents:
                r = client.put(
                    "/api/v1/agents/me/presence",
                    json={"state": "available"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                _expect(r, 200, "presence")
            calls = Calls(
                "http://localhost", TOKEN, [CUSTOMER_NUMBER], prefix="c0", unknown_every=0
            )

            def step(
                name: str, counted: bool, fn: Callable[..., Any], *args: Any, **kw: Any
            ) -> Any:
                statements, trips = counters.statements, counters.round_trips
                began = time.thread_time()
                result = fn(*args, **kw)
                if counted:
                    t = tallies[name]
                    t.runs += 1
                    t.cpu_s += time.thread_time() - began
                    t.statements += counters.statements - statements
                    t.round_trips += counters.round_trips - trips
                return result

            def dispatch() -> int:
                with app.app_context():
                    return _dispatch_once()

            status_url = "/twilio/voice/status"
            try:
                for i in tqdm(range(opts.warmup + opts.calls), desc="whole calls", leave=False):
                    counted = i >= opts.warmup
                    path, form, headers = calls.incoming(i)
                    _expect(client.post(path, data=form, headers=headers), 200, "incoming")
                    path, form, headers = calls.menu(i)
                    menu = step("menu", counted, client.post, path, data=form, headers=headers)
                    _expect(menu, 200, "menu")
                    step("dispatch", counted, dispatch)
                    with app.app_context():
                        row = db.session.execute(
                            select(Call.id, Call.agent_id).where(Call.call_sid == calls.sid(i))
                        ).one()
                        db.session.remove()
                    if row.agent_id is None:
                        raise RuntimeError(f"call {i} was not offered")
                    auth = {"Authorization": f"Bearer {tokens[row.agent_id]}"}
                    url_ = f"/api/v1/calls/{row.id}"
                    _expect(
                        step("accept", counted, client.post, f"{url_}/accept", headers=auth),
                        200,
                        "accept",
                    )
                    ended = {
                        "CallSid": calls.sid(i),
                        "CallStatus": "completed",
                        "CallDuration": "1",
                        "AccountSid": "AC" + "0" * 32,
                    }
                    signed = {
                        "X-Twilio-Signature": calls.validator.compute_signature(
                            "http://localhost" + status_url, ended
                        )
                    }
                    _expect(
                        step(
                            "status", counted, client.post, status_url, data=ended, headers=signed
                        ),
                        204,
                        "status",
                    )
                    body = {"disposition": "resolved", "notes": "", "done": True}
                    _expect(
                        step(
                            "wrap-up",
                            counted,
                            client.post,
                            f"{url_}/wrap-up",
                            headers=auth,
                            json=body,
                        ),
                        200,
                        "wrap-up",
                    )
            finally:
                remove()
        _figures(current, tallies, opts)
    finally:
        redis.Redis.from_url(rurl).flushdb()
        if not opts.keep:
            pg.drop_database(server, DB)
    save(current, "callcost", RESULTS)
    return current


def _expect(response: Any, status: int, what: str) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{what}: {response.status_code} {response.get_data(as_text=True)}")


def _figures(run: Run, tallies: dict[str, Tally], opts: Options) -> None:
    def per(name: str, value: Callable[[Tally], float]) -> float:
        t = tallies[name]
        return value(t) / t.runs if t.runs else 0.0

    for name in STEPS:
        run.add(
            Figure(
                f"{name}: CPU / SQL statements / Redis round trips, per call",
                "reported",
                f"{per(name, lambda t: t.cpu_s) * 1000:.1f} ms"
                f" / {per(name, lambda t: t.statements):.0f}"
                f" / {per(name, lambda t: t.round_trips):.0f}",
                None,
                group=1,
            )
        )
    cpu = sum(per(n, lambda t: t.cpu_s) for n in STEPS) * 1000
    statements = sum(per(n, lambda t: t.statements) for n in STEPS)
    trips = sum(per(n, lambda t: t.round_trips) for n in STEPS)
    run.details["steps"] = {n: vars(tallies[n]) for n in STEPS}
    run.add(
        Figure(
            f"whole call ({opts.calls} calls, {opts.timeline:,} timeline entries):"
            " application CPU / SQL statements / Redis round trips",
            "reported",
            f"{cpu:.1f} ms / {statements:.0f} / {trips:.0f}",
            None,
            group=2,
        )
    )
