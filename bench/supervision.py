"""Supervision figures: live wallboard delivery and historical reports on PostgreSQL.

1. Wallboard delay. The scaled-out shape: one Procfile `web` process (gunicorn) serving the
   `/agents` namespace through the Redis message queue, and this process writing call events the
   way telephony's service functions and Celery workers do (the call log row in a committed
   transaction, then the Redis live statistics and a write-only Socket.IO emit). A supervisor's
   python-socketio client is connected to the web process. Events are paced at `--events-rate`
   per second over 1,000 agents (agent state changes, calls entering, answered, completed) and
   each figure's delay is its arrival at the supervisor minus the instant its event was logged.
2. Call report. `--report-calls` calls (1,000,000 by default; three log rows each) spread over
   30 days, 5 queues and 1,000 agents, inserted by the server itself; then the historical report
   of the whole 30 days by day, queue, agent and 15-minute interval.

Loopback only: PostgreSQL on 127.0.0.1 and Redis on 127.0.0.1 (`BENCH_REDIS_URL`).
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import machine, pg
from bench.report import Figure, Run, save
from bench.server import WebServer, free_port
from bench.stats import percentile

DB_NAME = "helpdesk_bench_supervision"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
AGENTS = 1000
QUEUES = ("support", "billing", "sales", "tech", "vip")
WRITERS = 4
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Options:
    rate: float = 100.0
    seconds: float = 30.0
    report_calls: int = 1_000_000
    repeats: int = 5
    keep: bool = False


def _redis_url() -> str:
    url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    if (urlsplit(url).hostname or "") not in pg.LOOPBACK:
        raise SystemExit("benchmarks use a loopback Redis only")
    return url


def _seed(database_url: str) -> str:
    """1,000 agents with their presence, the queues and a supervisor; returns its API token."""
    from sqlalchemy import create_engine, insert, select
    from werkzeug.security import generate_password_hash

    from bench.inprocess import application
    from helpdesk.auth import service as auth
    from helpdesk.auth.models import Role, User
    from helpdesk.extensions import db
    from helpdesk.migrate import upgrade
    from telephony.models import AgentPresence, CallQueue

    upgrade(database_url)
    engine = create_engine(database_url)
    password = generate_password_hash("bench-password", method="pbkdf2:sha256:1000")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "email": f"agent{i}@bench.example",
                    "name": f"Agent {i}",
                    "password_hash": password,
                    "role": Role.AGENT,
                    "locale": "en",
                    "languages": ["fr", "en"],
                    "active": True,
                    "created_at": now,
                    "session_version": 1,
                }
                for i in range(1, AGENTS + 1)
            ],
        )
        conn.execute(
            insert(AgentPresence),
            [
                {
                    "user_id": i,
                    "state": "offline",
                    "reason": "",
                    "since": now,
                    "calls_today": 0,
                    "calls_day": "",
                    "endpoint": f"client:agent-{i}",
                }
                for i in range(1, AGENTS + 1)
            ],
        )
        conn.execute(
            insert(CallQueue),
            [
                {
                    "name": q,
                    "label_en": q,
                    "label_fr": q,
                    "skills": {},
                    "steps": [],
                    "strategy": "longest_idle",
                    "ring_timeout_s": 20,
                    "wrap_up_s": 30,
                    "callback_after_s": 60,
                    "active": True,
                }
                for q in QUEUES
            ],
        )
        conn.execute(
            insert(User),
            [
                {
                    "email": "supervisor@bench.example",
                    "name": "Supervisor",
                    "password_hash": password,
                    "role": Role.SUPERVISOR,
                    "locale": "en",
                    "languages": [],
                    "active": True,
                    "created_at": now,
                    "session_version": 1,
                }
            ],
        )
    engine.dispose()
    with application(database_url) as app, app.app_context():
        sup = db.session.scalar(select(User).where(User.role == Role.SUPERVISOR))
        return auth.issue_token(session=db.session, user=sup)


def wallboard_delay(run: Run, options: Options, database_url: str, redis_url: str) -> None:
    import redis
    import socketio

    redis.Redis.from_url(redis_url).flushdb()  # the benchmark's own Redis database
    token = _seed(database_url)
    log = Path(tempfile.mkdtemp(prefix="bench-supervision-")) / "web.log"
    port = free_port()
    web = WebServer(
        database_url,
        log,
        port=port,
        # Socket.IO accepts connections from the public origin only.
        extra_env={"REDIS_URL": redis_url, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"},
        kind="sockets",  # the live connection is the Procfile's sockets process
    )
    web.start()
    received: list[tuple[str, dict[str, Any], float]] = []
    lock = threading.Lock()
    client = socketio.Client(reconnection=False)

    def keep(name: str) -> Any:
        def handler(payload: dict[str, Any]) -> None:
            with lock:
                received.append((name, payload, time.time()))

        return handler

    client.on("wallboard.agent", keep("agent"), namespace="/agents")
    client.on("wallboard.queue", keep("queue"), namespace="/agents")
    try:
        client.connect(
            web.base_url,
            namespaces=["/agents"],
            auth={"token": token},
            transports=["websocket"],
            wait_timeout=10,
        )
        sent = _drive(options, database_url, redis_url)
        time.sleep(2.0)  # the last figures in flight
    finally:
        client.disconnect()
        web.stop()
    expected = len(sent["agent"]) + sum(len(v) for v in sent["entered"].values())
    agent_delays, queue_delays = _match(sent, received)
    for label, delays in (("agent", agent_delays), ("queue", queue_delays)):
        ordered = sorted(delays)
        p99 = percentile(ordered, 99) if ordered else float("inf")
        measured = (
            f"{percentile(ordered, 50) * 1000:.0f} / {percentile(ordered, 95) * 1000:.0f} / "
            f"{p99 * 1000:.0f} / {ordered[-1] * 1000:.0f} ms"
            if ordered
            else "nothing arrived"
        )
        run.add(
            Figure(
                f"wallboard {label} figure delay at {options.rate:g} events/s, {AGENTS} agents"
                " (p50 / p95 / p99 / max)",
                "p99 <= 1 s",
                measured,
                bool(ordered) and p99 <= 1.0,
                group=1,
            )
        )
    n = len(agent_delays) + len(queue_delays)
    run.add(
        Figure(
            "figures matched to their events", "all", f"{n} of {expected}", n == expected, group=1
        )
    )
    run.details["events_sent"] = sent["count"]
    run.details["events_per_s_achieved"] = round(sent["count"] / sent["elapsed"], 1)
    run.add(
        Figure(
            "call events written per second (achieved)",
            f"{options.rate:g}",
            f"{sent['count'] / sent['elapsed']:.1f}",
            sent["count"] / sent["elapsed"] >= options.rate * 0.95,
            group=1,
        )
    )


def _drive(options: Options, database_url: str, redis_url: str) -> dict[str, Any]:
    """Paced call events through `helpdesk.supervision.calllog`, each committed on its own, from
    `WRITERS` threads (as several web processes and workers would write them)."""
    from bench.inprocess import application
    from helpdesk.extensions import db
    from helpdesk.supervision import calllog, live

    states = ("available", "reserved", "on_call", "wrap_up", "break")
    sent: dict[str, Any] = {"agent": {}, "entered": {q: {} for q in QUEUES}, "count": 0}
    entered = {q: 0 for q in QUEUES}
    waiting: list[tuple[int, str]] = []
    talking: list[tuple[int, str, int]] = []
    lock = threading.Lock()
    counter = {"next": 0, "call": 0}
    with application(database_url, {"REDIS_URL": redis_url}) as app:
        with app.app_context():
            # With REDIS_URL the app emits through the Redis message queue, as a worker does.
            stats = live.current()
            assert stats is not None
            stats.ensure_loaded(db.session)
        interval = 1.0 / options.rate
        start = time.monotonic()
        deadline = start + options.seconds

        def writer(seed: int) -> None:
            rng = random.Random(seed)
            with app.app_context():
                while True:
                    with lock:
                        i = counter["next"]
                        counter["next"] += 1
                    due = start + i * interval
                    if due >= deadline:
                        return
                    pause = due - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    _one_event(i % 4, rng)
                    db.session.commit()

        def _one_event(kind: int, rng: random.Random) -> None:
            if kind == 0:
                agent = rng.randint(1, AGENTS)
                row = calllog.record(
                    db.session, "agent_state", agent_id=agent, to=rng.choice(states)
                )
                with lock:
                    sent["agent"][(agent, round(row.at.timestamp(), 3))] = row.at.timestamp()
                return
            with lock:
                pending = waiting.pop(0) if kind == 2 and waiting else None
                ending = talking.pop(0) if kind == 3 and talking else None
            if pending is not None:
                cid, queue = pending
                agent = rng.randint(1, AGENTS)
                calllog.record(
                    db.session,
                    "connected",
                    call_id=cid,
                    queue=queue,
                    agent_id=agent,
                    wait_s=rng.uniform(1, 40),
                )
                with lock:
                    talking.append((cid, queue, agent))
            elif ending is not None:
                cid, queue, agent = ending
                calllog.record(
                    db.session,
                    "completed",
                    call_id=cid,
                    queue=queue,
                    agent_id=agent,
                    talk_s=rng.uniform(60, 400),
                )
            else:
                queue = rng.choice(QUEUES)
                with lock:
                    counter["call"] += 1
                    cid = counter["call"]
                row = calllog.record(db.session, "entered", call_id=cid, queue=queue)
                # The entered count a figure shows is only known for sure for one writer at a
                # time per queue: serialise the count with the commit.
                with lock:
                    entered[queue] += 1
                    sent["entered"][queue][entered[queue]] = row.at.timestamp()
                    waiting.append((cid, queue))

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sent["count"] = min(counter["next"], int(options.seconds * options.rate))
        sent["elapsed"] = time.monotonic() - start
    return sent


def _match(
    sent: dict[str, Any], received: list[tuple[str, dict[str, Any], float]]
) -> tuple[list[float], list[float]]:
    """Delays of the agent figures (matched exactly by agent and instant) and of the queue
    figures (matched by the queue's count of calls entered: with several writers two calls
    entering one queue at once may swap, so those delays are right to a few milliseconds)."""
    agents, queues = [], []
    seen_entered: dict[str, set[int]] = {q: set() for q in QUEUES}
    for name, payload, at in received:
        if name == "agent":
            key = (int(payload["id"]), round(float(payload["since"]), 3))
            logged = sent["agent"].pop(key, None)
            if logged is not None:
                agents.append(at - logged)
        else:
            queue, count = payload["queue"], int(payload["entered"])
            logged = sent["entered"].get(queue, {}).get(count)
            if logged is not None and count not in seen_entered[queue]:
                seen_entered[queue].add(count)
                queues.append(at - logged)
    return agents, queues


# -- the historical report -------------------------------------------------------------------------

FILL_SQL = """
INSERT INTO call_events (at, day, slot, event, call_id, queue, agent_id, wait_s, talk_s, data)
SELECT d.day0 + (g %% 30) * interval '1 day' + ((g * 7) %% 96) * interval '15 minutes',
       to_char(d.day0 + (g %% 30) * interval '1 day', 'YYYY-MM-DD'),
       (g * 7) %% 96,
       e.event,
       g,
       'q' || (g %% 5),
       CASE WHEN e.event = 'entered' OR (g %% 10 = 0) THEN NULL ELSE (g %% 1000) + 1 END,
       CASE WHEN e.event = 'connected' THEN (g %% 45)::float
            WHEN e.event = 'abandoned' THEN (g %% 90)::float END,
       CASE WHEN e.event = 'completed' THEN 60 + (g %% 400)::float END,
       '{}'::jsonb
FROM generate_series(1, %(calls)s) AS g,
     (SELECT date_trunc('day', now()) - interval '30 days' AS day0) AS d,
     (VALUES ('entered'), ('connected'), ('completed')) AS e(event)
WHERE NOT (g %% 10 = 0 AND e.event = 'completed')
"""
ABANDON_SQL = """
UPDATE call_events SET event = 'abandoned', wait_s = (call_id % 90)::float
WHERE event = 'connected' AND call_id % 10 = 0
"""


def report_time(run: Run, options: Options, database_url: str, server: str) -> None:
    import psycopg
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from helpdesk.supervision.reports import ReportSpec, call_report

    libpq = pg.libpq_url(server, DB_NAME)
    t0 = time.perf_counter()
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("TRUNCATE call_events")
        conn.execute(FILL_SQL, {"calls": options.report_calls})
        conn.execute(ABANDON_SQL)
        conn.execute("VACUUM ANALYZE call_events")
        rows = conn.execute("SELECT count(*) FROM call_events").fetchone()
    run.details["report_rows"] = int(rows[0]) if rows else 0
    run.details["report_fill_s"] = round(time.perf_counter() - t0, 1)
    engine = create_engine(database_url)
    today = datetime.now(UTC).date()
    spec_days = ((today - timedelta(days=31)).isoformat(), today.isoformat())
    with Session(engine) as session:
        explain = (
            session.execute(
                text(
                    "EXPLAIN (ANALYZE, BUFFERS) SELECT day, count(*) FROM call_events "
                    "WHERE day >= :a AND day <= :b AND queue IS NOT NULL GROUP BY day"
                ),
                {"a": spec_days[0], "b": spec_days[1]},
            )
            .scalars()
            .all()
        )
        run.plans.append("\n".join(explain))
        for by in ("day", "queue", "agent", "interval"):
            spec = ReportSpec(start_day=spec_days[0], end_day=spec_days[1], by=by)
            times = []
            result: dict[str, Any] = {}
            for _ in range(options.repeats):
                t = time.perf_counter()
                result = call_report(session, spec)
                times.append(time.perf_counter() - t)
            times.sort()
            run.add(
                Figure(
                    f"call report over {options.report_calls:,} calls (30 days) by {by} "
                    f"({len(result['rows'])} rows; median / max of {options.repeats})",
                    "<= 2 s",
                    f"{percentile(times, 50):.2f} / {times[-1]:.2f} s",
                    times[-1] <= 2.0,
                    group=2,
                )
            )
            if by == "day":
                total = result["total"]
                run.details["report_total_entered"] = total["entered"]
    engine.dispose()


def run(options: Options) -> None:
    server = pg.server_url()
    redis_url = _redis_url()
    info = machine.describe(server)
    print("supervision:", machine.one_line(info))
    result = Run(options=options, machine=info)
    pg.create_database(server, DB_NAME)
    database_url = pg.sqlalchemy_url(server, DB_NAME)
    try:
        wallboard_delay(result, options, database_url, redis_url)
        report_time(result, options, database_url, server)
    finally:
        if not options.keep:
            pg.drop_database(server, DB_NAME)
    result.machine["load_average_at_end"] = machine.load_average()
    path = save(result, "supervision", RESULTS)
    print(f"supervision: results in {path}")
