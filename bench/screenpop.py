"""Console benchmark: the screen pop across web processes, and many agent sockets on one.

Figures, each against the target the console issue set:

1. Screen-pop latency in the scaled-out form: two web processes (the Procfile's `web` command)
   and a Celery worker (its `worker` command) sharing Redis as broker and Socket.IO message
   queue, on PostgreSQL. Real `python-socketio` clients, one per agent, are connected to web
   process B. Calls are driven as Twilio drives them, with signed webhooks sent to web process A:
   the incoming call first (not timed), then, paced at 20 per second, the menu choice that queues
   the caller, which makes the offer. The first 2 seconds of offers are a warm-up, reported on
   their own: the processes open their database connections and run each path for the first
   time then. The latency runs from sending that webhook to A until the
   agent's client on B receives `screen_pop` for that CallSid: A commits and queues the dispatch,
   the worker claims an agent and builds the caller screen, publishes it to Redis, and B delivers
   it. Every caller is the same customer, whose timeline holds 5,000 entries. Each agent accepts
   its call through the API, the call's completed status callback is sent to A, and the agent
   wraps up, which makes them available again.
2. 1,000 agent sockets connected to one web process: its memory and threads before and after,
   and the delivery time of an event sent to all of them (`staff`) and of one event to each
   (`user:<id>`), both published from another process through Redis.

Loopback only, bounded in count and time; the databases and Redis keys are the benchmark's own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
import requests
import socketio
from tqdm import tqdm

from bench import machine, pg
from bench.foundation import RESULTS
from bench.report import Figure, Run, save
from bench.server import (
    ONE_PROCESS_LINE,
    ROOT,
    WebServer,
    children_of,
    expand,
    free_port,
    postgres_pids,
    process_cpu,
    procfile_command,
)
from bench.stats import summarise
from bench.voice import Calls

# Its own database (a name of one's own lets two checkouts measure on one server at once).
DB = os.environ.get("BENCH_SCREENPOP_DB", "helpdesk_bench_screenpop")
REDIS_DEFAULT = "redis://127.0.0.1:6379/9"
TOKEN = "bench-screenpop-webhook-token"
SECRET = "bench-screenpop-secret-key"
CUSTOMER_NUMBER = "+33612345678"
P95_TARGET_MS = 50.0
P99_TARGET_MS = 100.0
POP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    rate: float = 20.0
    seconds: float = 30.0
    warmup: float = 2.0
    agents: int = 40
    timeline: int = 5_000
    sockets: int = 1_000
    keep: bool = False
    pops: bool = True  # figure 1; `--no-pops` for the others only
    saturated_seconds: float = 20.0  # figure 3, per server model; 0 leaves it out
    saturating_clients: int = 24


def redis_url() -> str:
    url = os.environ.get("BENCH_REDIS_URL", REDIS_DEFAULT)
    if (urlsplit(url).hostname or "") not in pg.LOOPBACK:
        raise SystemExit("benchmarks use a loopback Redis only")
    return url


# -- data --------------------------------------------------------------------------------------


@dataclass
class Seeded:
    customer_id: int
    agents: list[tuple[int, str]]  # (user id, API token) of the agents who take calls
    watchers: list[tuple[int, str]]  # staff for the many-sockets figure


def seed(url: str, opts: Options) -> Seeded:
    """The customer with a long history, the support queue, the agents and their tokens."""
    from sqlalchemy import insert

    from helpdesk.app import create_app
    from helpdesk.auth import service as auth
    from helpdesk.auth.models import Role
    from helpdesk.config import Settings
    from helpdesk.customers import service as customers
    from helpdesk.db import utcnow
    from helpdesk.extensions import db
    from helpdesk.tickets import service as tickets
    from helpdesk.timeline.models import TimelineEntry
    from telephony.models import CallQueue

    instance = tempfile.mkdtemp(prefix="helpdesk-bench-seed-")
    settings = Settings.from_env(
        env={},
        DATABASE_URL=url,
        HELPDESK_INSTANCE_PATH=instance,
        SECRET_KEY=SECRET,
        HELPDESK_SCHEDULER=False,
        TESTING=True,
        extra={"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"},
    )
    app = create_app(settings)
    with app.app_context():
        db.session.add(
            CallQueue(
                name="support",
                label_en="Support",
                label_fr="Assistance",
                skills={"support": 1},
                ring_timeout_s=30,
                wrap_up_s=0,
            )
        )
        db.session.commit()
        customer = customers.create(
            db.session,
            name="Camille Martin",
            language="fr",
            phones=[CUSTOMER_NUMBER],
            tags=["vip"],
        )
        for n in range(5):
            tickets.create(
                db.session, actor=None, subject=f"Open question {n}", requester_id=customer.id
            )
        now = utcnow()
        rows = [
            {
                "customer_id": customer.id,
                "occurred_at": now,
                "kind": "sms" if i % 3 else "call",
                "summary": f"History entry {i}: the customer got in touch about their line",
                "subject_type": "",
                "data": {},
            }
            for i in range(opts.timeline)
        ]
        db.session.execute(insert(TimelineEntry), rows)
        db.session.commit()

        def staff(prefix: str, count: int, role: Role) -> list[tuple[int, str]]:
            out = []
            for i in tqdm(range(count), desc=f"seed {prefix}", leave=False):
                user = auth.create_user(
                    session=db.session,
                    role=role,
                    email=f"{prefix}{i}@bench.example",
                    password="bench password 1234",
                    name=f"{prefix.title()} {i}",
                    skills={"support": 2} if role is Role.AGENT else None,
                    languages=["fr", "en"],
                )
                out.append((user.id, auth.issue_token(session=db.session, user=user)))
            return out

        seeded = Seeded(customer.id, staff("agent", opts.agents, Role.AGENT), [])
        seeded.watchers = staff("watcher", opts.sockets, Role.AGENT)
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            # Statistics of the rows just written, as autovacuum would gather them in a minute:
            # without them PostgreSQL plans the caller's history for 5 entries, not thousands,
            # and sorts them all on every screen pop.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return seeded


# -- processes ----------------------------------------------------------------------------------


def _env(url: str, rurl: str, public: str) -> dict[str, str | None]:
    return {
        "REDIS_URL": rurl,
        "SECRET_KEY": SECRET,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": None,
        "PUBLIC_BASE_URL": public,
        "DATABASE_URL": url,
    }


@dataclass
class Worker:
    """The Procfile's `worker` line, on the benchmark's database and Redis."""

    url: str
    rurl: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "HELPDESK_INSTANCE_PATH": tempfile.mkdtemp(prefix="helpdesk-bw-"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        for key, value in _env(self.url, self.rurl, "http://127.0.0.1:5000").items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        self.process = subprocess.Popen(
            expand(procfile_command("worker"), 0),
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def web(
    url: str,
    rurl: str,
    logs: Path,
    name: str,
    threads: int | None = None,
    *,
    process: str = "web",
    line: str = "",
    env: dict[str, str] | None = None,
) -> WebServer:
    """A Procfile serving line (`web`, or `sockets` for the live connection), or `line`."""
    port = free_port()
    server = WebServer(
        url,
        logs / f"{name}.log",
        port=port,
        extra_env=_env(url, rurl, f"http://127.0.0.1:{port}") | dict(env or {}),
        kind=process,
        line=line,
    )
    if threads is not None:
        server.extra_env["SOCKETS_THREADS" if process == "sockets" else "WEB_THREADS"] = str(
            threads
        )
    server.start()
    return server


def _pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def cpu_groups(a: WebServer, b: WebServer, live: WebServer, worker: Worker) -> dict[str, float]:
    """CPU seconds used so far by each part of the deployment and by this benchmark's clients."""
    worker_pids = [worker.process.pid, *children_of(worker.process.pid)] if worker.process else []
    groups = {
        "web A": a.pids(),
        "web B": b.pids(),
        "sockets": live.pids(),
        "worker": worker_pids,
        "postgresql": postgres_pids(DB),
        "redis": _pids_named("redis-server"),
        "benchmark clients": [os.getpid()],
    }
    return {name: sum(process_cpu(p) for p in pids) for name, pids in groups.items()}


def rss_and_threads(server: WebServer) -> tuple[float, int]:
    """Memory (MiB) and threads of the web worker process (the master's child)."""
    pids = server.pids()
    pid = pids[-1]
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss_kib = int(fields["VmRSS"].split()[0])
    return rss_kib / 1024, int(fields["Threads"])


# -- figure 1: screen pops across processes -------------------------------------------------------


@dataclass
class PopLog:
    sent: dict[str, float] = field(default_factory=dict)
    popped: dict[str, float] = field(default_factory=dict)
    sizes: list[int] = field(default_factory=list)
    answered: dict[str, float] = field(default_factory=dict)  # menu webhook answered, by CallSid
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Agent:
    """One agent's console: a socket on web process B, and the calls it takes."""

    def __init__(self, user_id: int, token: str, log: PopLog, work: queue.Queue[Any]) -> None:
        self.user_id = user_id
        self.token = token
        self.client = socketio.Client(reconnection=False)
        self.client.on("screen_pop", self.on_pop, namespace="/agents")
        self.log = log
        self.work = work

    def on_pop(self, payload: dict[str, Any]) -> None:
        at = time.perf_counter()
        with self.log.lock:
            self.log.popped.setdefault(payload["call_sid"], at)
            self.log.sizes.append(len(json.dumps(payload)))
        self.work.put((self, payload["call_id"], payload["call_sid"]))


def take_calls(
    b: WebServer, a: WebServer, calls: Calls, work: queue.Queue[Any], log: PopLog
) -> None:
    """Accept, hang up (as the caller would, through Twilio's callback) and wrap up."""
    http = requests.Session()
    while True:
        item = work.get()
        if item is None:
            return
        agent, call_id, call_sid = item
        auth = {"Authorization": f"Bearer {agent.token}"}
        try:
            r = http.post(f"{b.base_url}/api/v1/calls/{call_id}/accept", headers=auth, timeout=10)
            if r.status_code != 200:
                log.errors.append(f"accept {r.status_code} {r.text[:120]}")
                continue
            form = {
                "CallSid": call_sid,
                "CallStatus": "completed",
                "CallDuration": "1",
                "AccountSid": "AC" + "0" * 32,
            }
            sig = calls.validator.compute_signature(a.base_url + "/twilio/voice/status", form)
            r = http.post(
                a.base_url + "/twilio/voice/status",
                data=form,
                headers={"X-Twilio-Signature": sig},
                timeout=10,
            )
            if r.status_code != 204:
                log.errors.append(f"status {r.status_code}")
            r = http.post(
                f"{b.base_url}/api/v1/calls/{call_id}/wrap-up",
                headers=auth,
                json={"disposition": "resolved", "notes": "", "done": True},
                timeout=10,
            )
            if r.status_code != 200:
                log.errors.append(f"wrap-up {r.status_code} {r.text[:120]}")
        except requests.RequestException as exc:
            log.errors.append(repr(exc))


def screen_pops(run: Run, url: str, rurl: str, seeded: Seeded, opts: Options, logs: Path) -> None:
    a = web(url, rurl, logs, "web-a")
    b = web(url, rurl, logs, "web-b")
    live = web(url, rurl, logs, "sockets", process="sockets")
    worker = Worker(url, rurl, logs / "worker.log")
    worker.start()
    log = PopLog()
    work: queue.Queue[Any] = queue.Queue()
    agents = [Agent(uid, token, log, work) for uid, token in seeded.agents]
    total = int(opts.rate * opts.seconds)
    # The first offers, at the same pace, are not timed: each process opens its database
    # connections and runs each code path for the first time then (new PostgreSQL backends
    # fill their catalogue caches), which is a start-up cost, not the steady rate the target
    # is about. They are reported on their own.
    warm = int(opts.rate * opts.warmup)
    calls = Calls(a.base_url, TOKEN, [CUSTOMER_NUMBER], prefix="5c", unknown_every=0)
    cpu: dict[str, float] = {}
    elapsed = 0.0
    before: dict[str, float] = {}
    began = 0.0

    def warmed() -> None:
        nonlocal before, began
        before = cpu_groups(a, b, live, worker)
        began = time.monotonic()

    handlers = [
        threading.Thread(target=take_calls, args=(b, a, calls, work, log), daemon=True)
        for _ in range(8)
    ]
    try:
        for t in handlers:
            t.start()
        for agent in tqdm(agents, desc="agents connect to the sockets process", leave=False):
            agent.client.connect(
                live.base_url,
                namespaces=["/agents"],
                auth={"token": agent.token},
                transports=["websocket"],
                wait_timeout=10,
            )
            r = requests.put(
                f"{b.base_url}/api/v1/agents/me/presence",
                json={"state": "available"},
                headers={"Authorization": f"Bearer {agent.token}"},
                timeout=10,
            )
            r.raise_for_status()
        # The incoming-call webhooks, untimed: the calls exist and wait at the menu.
        http = requests.Session()
        for i in tqdm(range(warm + total), desc="incoming calls", leave=False):
            path, form, headers = calls.incoming(i)
            http.post(a.base_url + path, data=form, headers=headers, timeout=10).raise_for_status()
        time.sleep(1.0)
        log.popped.clear()
        log.sizes.clear()
        pace(a, calls, warm + total, opts, log, warmed_after=warm, warmed=warmed)
        deadline = time.monotonic() + POP_TIMEOUT_S
        while len(log.popped) < warm + total and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.monotonic() - began
        after = cpu_groups(a, b, live, worker)
        cpu = {k: after[k] - before[k] for k in after}
    finally:
        for _ in handlers:
            work.put(None)
        for agent in agents:
            if agent.client.connected:
                agent.client.disconnect()
        worker.stop()
        a.stop()
        b.stop()
        live.stop()
    cold = {calls.sid(i) for i in range(warm)}
    timed = {s: t for s, t in log.sent.items() if s not in cold}
    latencies = [log.popped[s] - t for s, t in timed.items() if s in log.popped]
    lost = len(log.sent) - len([s for s in log.sent if s in log.popped])
    lat = summarise(latencies)
    first = summarise(
        [log.popped[s] - log.sent[s] for s in cold if s in log.popped and s in log.sent]
    )
    run.details["screen_pop"] = {
        "latency": lat.as_dict(),
        "warmup": first.as_dict(),
        "lost": lost,
        "errors": log.errors[:20],
        "payload_bytes_max": max(log.sizes, default=0),
    }
    run.add(
        Figure(
            f"screen_pop at {opts.rate:.0f} offers/s for {opts.seconds:.0f} s, webhook on A to"
            " client on the sockets process via Redis and the worker"
            f" ({opts.timeline:,} timeline entries): p50 / p95 / p99",
            f"p95 <= {P95_TARGET_MS:.0f} ms, p99 <= {P99_TARGET_MS:.0f} ms",
            f"{lat.p50_ms:.1f} / {lat.p95_ms:.1f} / {lat.p99_ms:.1f} ms over {lat.n} pops",
            lat.p95_ms <= P95_TARGET_MS and lat.p99_ms <= P99_TARGET_MS,
            group=1,
        )
    )
    run.add(
        Figure(
            f"the first {warm} offers after the processes start ({opts.warmup:g} s at the same"
            " pace, not timed above): p50 / p95 / max",
            "reported",
            f"{first.p50_ms:.1f} / {first.p95_ms:.1f} / {first.max_ms:.1f} ms",
            None,
            group=1,
        )
    )
    webhook = summarise([log.answered[s] - t for s, t in timed.items() if s in log.answered])
    after_answer = summarise(
        [log.popped[s] - log.answered[s] for s in timed if s in log.popped and s in log.answered]
    )
    run.add(
        Figure(
            "where the pop's time goes: the menu webhook answered (p50 / p95), then the pop after"
            " the answer (p50 / p95)",
            "reported",
            f"{webhook.p50_ms:.1f} / {webhook.p95_ms:.1f} ms; then"
            f" {after_answer.p50_ms:.1f} / {after_answer.p95_ms:.1f} ms",
            None,
            group=1,
        )
    )
    per_call = ", ".join(f"{k} {v * 1000 / max(total, 1):.1f}" for k, v in cpu.items())
    busy = sum(cpu.values()) / elapsed if elapsed else 0.0
    run.details["screen_pop"]["cpu_s"] = cpu
    run.add(
        Figure(
            f"CPU per call at {opts.rate:.0f}/s in ms (menu webhook, dispatch, pop, accept,"
            " status, wrap-up); cores busy",
            "reported",
            f"{per_call}; {busy:.2f} of {os.cpu_count()} cores",
            None,
            group=1,
        )
    )
    run.add(
        Figure(
            "offers that never popped within 10 s; errors taking the calls; largest payload",
            "none; none; bounded",
            f"{lost}; {len(log.errors)}; {max(log.sizes, default=0):,} bytes",
            lost == 0 and not log.errors,
            group=1,
        )
    )


def pace(
    a: WebServer,
    calls: Calls,
    total: int,
    opts: Options,
    log: PopLog,
    *,
    warmed_after: int = 0,
    warmed: Any = None,
) -> None:
    """The menu webhooks that queue each caller, sent on schedule (open loop) by a few threads;
    `warmed()` is called when the first `warmed_after` are due."""
    start = time.perf_counter() + 0.5
    counter = iter(range(total))
    lock = threading.Lock()
    limit = start + 2 * total / opts.rate + 10
    if warmed is not None:
        threading.Timer(start + warmed_after / opts.rate - time.perf_counter(), warmed).start()

    def send() -> None:
        http = requests.Session()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            due = start + i / opts.rate
            while (left := due - time.perf_counter()) > 0:
                time.sleep(left)
            if time.perf_counter() > limit:
                return
            path, form, headers = calls.menu(i)
            sent = time.perf_counter()
            with log.lock:
                log.sent[calls.sid(i)] = sent
            r = http.post(a.base_url + path, data=form, headers=headers, timeout=10)
            with log.lock:
                log.answered[calls.sid(i)] = time.perf_counter()
            if r.status_code != 200:
                log.errors.append(f"menu {r.status_code}")

    threads = [threading.Thread(target=send, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in tqdm(threads, desc=f"menu webhooks at {opts.rate:.0f}/s", leave=False):
        t.join()


# -- figure 2: many sockets on one process --------------------------------------------------------


async def _many(
    base_url: str, watchers: list[tuple[int, str]], rurl: str, sample: Any
) -> dict[str, Any]:
    clients: list[socketio.AsyncClient] = []
    got: dict[str, dict[int, float]] = {"staff": {}, "user": {}}
    done = {"staff": asyncio.Event(), "user": asyncio.Event()}
    count = len(watchers)

    def handler(kind: str, uid: int) -> Any:
        async def on(_data: Any) -> None:
            got[kind].setdefault(uid, time.perf_counter())
            if len(got[kind]) == count:
                done[kind].set()

        return on

    async def connect(uid: int, token: str) -> None:
        c = socketio.AsyncClient(reconnection=False)
        c.on("queue.updated", handler("staff", uid), namespace="/agents")
        c.on("presence.updated", handler("user", uid), namespace="/agents")
        await c.connect(
            base_url,
            namespaces=["/agents"],
            auth={"token": token},
            transports=["websocket"],
            wait_timeout=30,
        )
        clients.append(c)

    began = time.perf_counter()
    bar = tqdm(total=count, desc="sockets connect", leave=False)
    for start in range(0, count, 50):
        await asyncio.gather(*(connect(u, t) for u, t in watchers[start : start + 50]))
        bar.update(min(50, count - start))
    bar.close()
    connected_s = time.perf_counter() - began
    await asyncio.sleep(2)
    after = sample()
    from flask_socketio import SocketIO

    emitter = SocketIO(message_queue=rurl, write_only=True)
    t0 = time.perf_counter()
    await asyncio.to_thread(
        emitter.emit,
        "queue.updated",
        {"queue": "support", "call_id": 0},
        namespace="/agents",
        to="staff",
    )
    await asyncio.wait_for(done["staff"].wait(), 30)
    staff_s = [t - t0 for t in got["staff"].values()]
    t1 = time.perf_counter()

    def each() -> None:
        for uid, _ in watchers:
            emitter.emit(
                "presence.updated",
                {"user_id": uid, "state": "offline"},
                namespace="/agents",
                to=f"user:{uid}",
            )

    await asyncio.to_thread(each)
    emitted_s = time.perf_counter() - t1
    await asyncio.wait_for(done["user"].wait(), 60)
    user_s = [t - t1 for t in got["user"].values()]
    for c in clients:
        await c.disconnect()
    return {
        "connected_s": connected_s,
        "after": after,
        "staff_s": staff_s,
        "user_s": user_s,
        "emitted_s": emitted_s,
    }


def many_sockets(run: Run, url: str, rurl: str, seeded: Seeded, opts: Options, logs: Path) -> None:
    # Each websocket holds one of the sockets process's threads: give it one per agent and some.
    server = web(url, rurl, logs, "sockets-many", threads=opts.sockets + 64, process="sockets")
    try:
        before = rss_and_threads(server)
        out = asyncio.run(
            _many(server.base_url, seeded.watchers, rurl, lambda: rss_and_threads(server))
        )
    finally:
        server.stop()
    (rss0, th0), (rss1, th1) = before, out["after"]
    staff = summarise(out["staff_s"])
    each = summarise(out["user_s"])
    run.details["many_sockets"] = {
        "before": before,
        "after": out["after"],
        "staff": staff.as_dict(),
        "each": each.as_dict(),
        "connected_s": out["connected_s"],
    }
    run.add(
        Figure(
            f"{opts.sockets:,} agent sockets on one sockets process: memory and threads before /"
            " after",
            "reported",
            f"{rss0:.0f} / {rss1:.0f} MiB ({(rss1 - rss0) * 1024 / opts.sockets:.0f} KiB"
            f" per socket); {th0} / {th1} threads; all connected in {out['connected_s']:.1f} s",
            None,
            group=2,
        )
    )
    run.add(
        Figure(
            f"one event to all {opts.sockets:,} (room staff), through Redis:"
            " delivered p50 / p95 / last",
            "reported",
            f"{staff.p50_ms:.0f} / {staff.p95_ms:.0f} / {staff.max_ms:.0f} ms",
            None,
            group=2,
        )
    )
    run.add(
        Figure(
            f"one event to each of the {opts.sockets:,} (rooms user:<id>):"
            " delivered p50 / p95 / last",
            "reported",
            f"{each.p50_ms:.0f} / {each.p95_ms:.0f} / {each.max_ms:.0f} ms"
            f" (publishing took {out['emitted_s'] * 1000:.0f} ms)",
            None,
            group=2,
        )
    )


# -- figure 3: screen pops while the API is saturated, one process against the split ------------


SATURATED_POP_EVERY_S = 0.05
SATURATED_P99_TARGET_MS = 200.0  # the call center's screen-pop target (issue #23)


def _hammer(base: str, token: str, stop: threading.Event, took: list[float]) -> None:
    """One API client, back to back until told to stop: a page of 100 tickets each time."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    while not stop.is_set():
        started = time.perf_counter()
        try:
            http.get(f"{base}/api/v1/tickets?limit=100", timeout=30).raise_for_status()
        except requests.RequestException:
            continue
        took.append(time.perf_counter() - started)


def _pops_while_saturated(
    api: str, live: str, seeded: Seeded, rurl: str, opts: Options
) -> dict[str, Any]:
    """Screen pops published as the worker publishes them (a write-only emitter on the Redis
    queue) to one agent connected to `live`, while `saturating_clients` hammer `api`."""
    from flask_socketio import SocketIO

    from helpdesk.socketqueue import RedisQueue

    uid, token = seeded.agents[0]
    popped: dict[int, float] = {}
    got = threading.Condition()
    client = socketio.Client(reconnection=False)

    def on_pop(payload: dict[str, Any]) -> None:
        with got:
            popped.setdefault(payload["n"], time.time())
            got.notify_all()

    client.on("screen_pop", on_pop, namespace="/agents")
    client.connect(live, namespaces=["/agents"], auth={"token": token}, transports=["websocket"])
    emitter = SocketIO(
        message_queue=rurl,
        client_manager=RedisQueue(rurl, channel="flask-socketio", write_only=True),
        write_only=True,
    )
    stop = threading.Event()
    took: list[float] = []
    hammers = [
        threading.Thread(target=_hammer, args=(api, t, stop, took), daemon=True)
        for _, t in seeded.agents[1 : 1 + opts.saturating_clients] or seeded.agents
    ]
    sent: dict[int, float] = {}
    try:
        for h in hammers:
            h.start()
        time.sleep(2.0)  # the load reaches its pace
        took.clear()
        began = time.monotonic()
        n = 0
        while time.monotonic() - began < opts.saturated_seconds:
            n += 1
            sent[n] = time.time()
            emitter.emit("screen_pop", {"n": n}, to=f"user:{uid}", namespace="/agents")
            time.sleep(SATURATED_POP_EVERY_S)
        elapsed = time.monotonic() - began
        with got:
            got.wait_for(lambda: len(popped) >= len(sent), timeout=POP_TIMEOUT_S)
    finally:
        stop.set()
        for h in hammers:
            h.join(timeout=30)
        client.disconnect()
    delays = [popped[k] - t for k, t in sent.items() if k in popped]
    return {
        "pop": summarise(delays),
        "lost": len(sent) - len(delays),
        "api": summarise(took),
        "api_rate": len(took) / elapsed if elapsed else 0.0,
    }


def split_under_load(
    run: Run, url: str, rurl: str, seeded: Seeded, opts: Options, logs: Path
) -> None:
    """The same load against the one-process model (one gunicorn worker serving everything)
    and against the Procfile's split (web on one worker per core, sockets apart)."""
    results: dict[str, dict[str, Any]] = {}
    load = {}
    one = web(url, rurl, logs, "one-process", line=ONE_PROCESS_LINE)
    try:
        load["one process"] = machine.load_average()
        results["one process"] = _pops_while_saturated(
            one.base_url, one.base_url, seeded, rurl, opts
        )
    finally:
        one.stop()
    api = web(url, rurl, logs, "split-web")
    live = web(url, rurl, logs, "split-sockets", process="sockets")
    try:
        load["split"] = machine.load_average()
        results["split"] = _pops_while_saturated(api.base_url, live.base_url, seeded, rurl, opts)
    finally:
        api.stop()
        live.stop()
    run.details["split_under_load"] = {
        form: {
            "pop": r["pop"].as_dict(),
            "lost": r["lost"],
            "api": r["api"].as_dict(),
            "api_rate": r["api_rate"],
            "load_average_before": load[form],
        }
        for form, r in results.items()
    }
    for form, r in results.items():
        pop, api_lat = r["pop"], r["api"]
        run.add(
            Figure(
                f"screen_pop with the API saturated ({opts.saturating_clients} clients listing"
                f" 100 tickets back to back, {opts.saturated_seconds:g} s), {form}:"
                " p50 / p99 / max",
                f"p99 <= {SATURATED_P99_TARGET_MS:.0f} ms",
                f"{pop.p50_ms:.1f} / {pop.p99_ms:.1f} / {pop.max_ms:.1f} ms over {pop.n} pops"
                f" ({r['lost']} lost); API {r['api_rate']:.0f} req/s, p50"
                f" {api_lat.p50_ms:.0f} ms",
                pop.p99_ms <= SATURATED_P99_TARGET_MS and r["lost"] == 0,
                group=3,
            )
        )


# -- the run --------------------------------------------------------------------------------------


def run(opts: Options) -> Run:
    logging.getLogger("socketio").setLevel(logging.WARNING)
    logging.getLogger("engineio").setLevel(logging.WARNING)
    server = pg.server_url()
    rurl = redis_url()
    redis.Redis.from_url(rurl).flushdb()
    current = Run(options=opts, machine=machine.describe(server))
    began = time.monotonic()
    pg.drop_database(server, DB)
    pg.create_database(server, DB)
    url = pg.sqlalchemy_url(server, DB)
    from helpdesk.migrate import upgrade

    upgrade(url)
    logs = Path(tempfile.mkdtemp(prefix="helpdesk-bench-screenpop-"))
    try:
        seeded = seed(url, opts)
        if opts.pops:
            screen_pops(current, url, rurl, seeded, opts, logs)
        if opts.sockets:  # `--sockets 0`: the screen pops only
            many_sockets(current, url, rurl, seeded, opts, logs)
        if opts.saturated_seconds:
            split_under_load(current, url, rurl, seeded, opts, logs)
    finally:
        if not opts.keep:
            pg.drop_database(server, DB)
        redis.Redis.from_url(rurl).flushdb()
    current.machine["load_average_at_end"] = machine.load_average()
    current.details["seconds"] = time.monotonic() - began
    current.details["logs"] = str(logs)
    save(current, "screenpop", RESULTS)
    return current
