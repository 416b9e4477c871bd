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

The agent works from the console, as a browser does: accept and wrap-up are the phone panel's
posts (`/phone/calls/<id>/accept`, `/wrap-up`), each answered with the panel's snapshot, and
`reloads` names the moments the console also fetches `GET /phone/state` during the call (the
browser test `test_an_answered_call_costs_the_agents_browser_two_requests` counts them: none
today, four before the console applied the events itself: after the offer, the connection, the
end and the wrap-up). The HTTP requests per answered call are counted on both sides: Twilio's
webhooks (incoming, menu choice, completed status) and the agent's browser.

Loopback only, bounded in count; the database and Redis keys are the benchmark's own.
"""

from __future__ import annotations

import os
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

# Its own database (a name of one's own lets two checkouts measure on one server at once).
DB = os.environ.get("BENCH_CALLCOST_DB", "helpdesk_bench_callcost")
TWILIO_STEPS = ("incoming", "menu", "status")
RELOADS = ("offer", "connected", "ended", "available")
JSON = {"Accept": "application/json"}
PASSWORD = "bench password 1234"  # what bench.screenpop.seed gives its agents


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    calls: int = 150
    warmup: int = 10
    agents: int = 40
    timeline: int = 5_000
    reloads: tuple[str, ...] = ()  # moments the console fetches its snapshot (see RELOADS)
    keep: bool = False


def steps(opts: Options) -> tuple[str, ...]:
    """The steps of one call, in order, with the snapshot fetches `opts.reloads` asks for."""
    after = {
        "dispatch": "offer",
        "accept": "connected",
        "status": "ended",
        "wrap-up": "available",
    }
    out: list[str] = []
    for name in ("incoming", "menu", "dispatch", "accept", "status", "wrap-up"):
        out.append(name)
        if after.get(name) in opts.reloads:
            out.append(f"snapshot after {after[name]}")
    return tuple(out)


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


class Meter:
    """Runs a step and, when counted, adds its CPU, statements and round trips to its tally."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self.tallies: dict[str, Tally] = defaultdict(Tally)

    def __call__(
        self, name: str, counted: bool, fn: Callable[..., Any], *args: Any, **kw: Any
    ) -> Any:
        statements, trips = self.counters.statements, self.counters.round_trips
        began = time.thread_time()
        result = fn(*args, **kw)
        if counted:
            t = self.tallies[name]
            t.runs += 1
            t.cpu_s += time.thread_time() - began
            t.statements += self.counters.statements - statements
            t.round_trips += self.counters.round_trips - trips
        return result


def run(opts: Options) -> Run:
    from helpdesk.migrate import upgrade

    unknown = set(opts.reloads) - set(RELOADS)
    if unknown:
        raise ValueError(f"unknown reload moments {sorted(unknown)}; known: {RELOADS}")
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
        with application(url, extra) as app:
            tallies = _calls(app, seeded, opts)
        _figures(current, tallies, opts)
    finally:
        redis.Redis.from_url(rurl).flushdb()
        if not opts.keep:
            pg.drop_database(server, DB)
    save(current, "callcost", RESULTS)
    return current


def _consoles(app: Any, seeded: Any) -> dict[int, Any]:
    """Each agent signed in to the console (its own cookies) and available."""
    from helpdesk.auth.models import User
    from helpdesk.extensions import db

    app.config["WTF_CSRF_ENABLED"] = False  # the posts below carry no form token
    consoles = {}
    for uid, _token in seeded.agents:
        with app.app_context():
            email = db.session.get(User, uid).email
            db.session.remove()
        client = app.test_client()
        _expect(client.post("/login", data={"email": email, "password": PASSWORD}), 302, "login")
        r = client.post("/phone/presence", data={"state": "available"}, headers=JSON)
        _expect(r, 200, "presence")
        consoles[uid] = client
    return consoles


def _calls(app: Any, seeded: Any, opts: Options) -> dict[str, Tally]:
    from helpdesk.extensions import db

    twilio = app.test_client()
    with app.app_context():
        engine = db.engine
    consoles = _consoles(app, seeded)
    counters = Counters()
    remove = counters.install(engine)
    meter = Meter(counters)
    calls = Calls("http://localhost", TOKEN, [CUSTOMER_NUMBER], prefix="c0", unknown_every=0)
    try:
        for i in tqdm(range(opts.warmup + opts.calls), desc="whole calls", leave=False):
            _one_call(app, twilio, consoles, calls, i, meter, opts, counted=i >= opts.warmup)
    finally:
        remove()
    return meter.tallies


def _one_call(
    app: Any,
    twilio: Any,
    consoles: dict[int, Any],
    calls: Calls,
    i: int,
    meter: Meter,
    opts: Options,
    *,
    counted: bool,
) -> None:
    """One answered call, from the first webhook to the agent's wrap-up."""
    from helpdesk.extensions import db
    from telephony.models import Call
    from telephony.tasks import _dispatch_once

    def reload(moment: str, console: Any) -> None:
        if moment in opts.reloads:
            r = meter(f"snapshot after {moment}", counted, console.get, "/phone/state")
            _expect(r, 200, f"snapshot after {moment}")

    def dispatch() -> int:
        with app.app_context():
            return _dispatch_once()

    path, form, headers = calls.incoming(i)
    r = meter("incoming", counted, twilio.post, path, data=form, headers=headers)
    _expect(r, 200, "incoming")
    path, form, headers = calls.menu(i)
    _expect(meter("menu", counted, twilio.post, path, data=form, headers=headers), 200, "menu")
    meter("dispatch", counted, dispatch)
    with app.app_context():
        row = db.session.execute(
            select(Call.id, Call.agent_id).where(Call.call_sid == calls.sid(i))
        ).one()
        db.session.remove()
    if row.agent_id is None:
        raise RuntimeError(f"call {i} was not offered")
    console = consoles[row.agent_id]
    reload("offer", console)
    url_ = f"/phone/calls/{row.id}"
    _expect(meter("accept", counted, console.post, f"{url_}/accept", headers=JSON), 200, "accept")
    reload("connected", console)
    _expect(meter("status", counted, _completed, twilio, calls, i), 204, "status")
    reload("ended", console)
    body = {"disposition": "resolved", "notes": ""}
    r = meter("wrap-up", counted, console.post, f"{url_}/wrap-up", data=body, headers=JSON)
    _expect(r, 200, "wrap-up")
    reload("available", console)


def _completed(twilio: Any, calls: Calls, i: int) -> Any:
    """Twilio's final status callback: the caller hung up after talking."""
    status_url = "/twilio/voice/status"
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
    return twilio.post(status_url, data=ended, headers=signed)


def _expect(response: Any, status: int, what: str) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{what}: {response.status_code} {response.get_data(as_text=True)}")


def _figures(run: Run, tallies: dict[str, Tally], opts: Options) -> None:
    def per(name: str, value: Callable[[Tally], float]) -> float:
        t = tallies[name]
        return value(t) / t.runs if t.runs else 0.0

    names = steps(opts)
    for name in names:
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
    cpu = sum(per(n, lambda t: t.cpu_s) for n in names) * 1000
    statements = sum(per(n, lambda t: t.statements) for n in names)
    trips = sum(per(n, lambda t: t.round_trips) for n in names)
    agent = len([n for n in names if n not in TWILIO_STEPS and n != "dispatch"])
    run.details["steps"] = {n: vars(tallies[n]) for n in names}
    run.add(
        Figure(
            "HTTP requests per answered call: Twilio side / agent's browser",
            "reported",
            f"{len(TWILIO_STEPS)} / {agent}",
            None,
            group=2,
        )
    )
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
