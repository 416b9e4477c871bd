"""The call-center load: the Procfile deployment (web processes sharing Redis, a Celery worker)
with N agents on real python-socketio clients, and calls and SMS driven as Twilio drives them.

Each call: `POST /twilio/voice` (signed), then the IVR's `POST /twilio/voice/menu` with
`Digits=1` (the TwiML answers `<Enqueue>`); the worker offers the call to an available agent, whose
console gets `screen_pop`; the agent accepts (`POST /api/v1/calls/{id}/accept`), talks for
`talk_s`, Twilio's status callback reports `completed`, and the agent wraps up
(`POST /api/v1/calls/{id}/wrap-up`). Inbound SMS are signed `POST /twilio/sms` at their own rate.

Reported: calls and SMS per second held, p50/p95/p99 of each webhook and of the screen pop
(from the menu webhook's answer, when the caller is queued, to the offer on the agent's socket),
errors, and an accounting of every call (recorded once, offered, accepted once, completed) and
every SMS (recorded once). Bounded: `--seconds` of load at most, loopback only, and a drain of at
most `--drain-s` seconds for the calls still in line.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import socketio
from twilio.request_validator import RequestValidator

from bench import machine, pg
from bench.server import (
    ROOT,
    WebServer,
    children_of,
    free_port,
    machine_cpu,
    postgres_pids,
    process_cpu,
)
from bench.stats import summarise

DBNAME = "helpdesk_bench_load"
AUTH_TOKEN = "bench-load-token"
OUR_NUMBER = "+15005550006"
# Unset: the benchmark starts a redis-server of its own on a free loopback port.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "")


@dataclass
class Options:
    agents: int = 40
    rate: float = 5.0  # new calls per second
    sms_rate: float = 1.0
    seconds: float = 30.0
    web: int = 2
    talk_s: float = 1.0
    drain_s: float = 60.0


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    webhook: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    queued_at: dict[str, float] = field(default_factory=dict)
    pops: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    accepted: Counter[str] = field(default_factory=Counter)
    completed: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)  # socket events, by name

    def error(self, text: str) -> None:
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(text)


def prepare(opts: Options) -> tuple[str, list[str]]:
    """A fresh database with one support queue and `agents` agents; their API tokens."""
    server = pg.server_url()
    if pg.database_exists(server, DBNAME):
        pg.drop_database(server, DBNAME)
    pg.create_database(server, DBNAME)
    url = pg.sqlalchemy_url(server, DBNAME)
    from helpdesk.app import create_app
    from helpdesk.auth import service as auth
    from helpdesk.auth.models import Role
    from helpdesk.extensions import db
    from helpdesk.migrate import upgrade
    from telephony.models import CallQueue

    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-load",
            "TESTING": True,
            "HELPDESK_SCHEDULER": False,
            "HELPDESK_INSTANCE_PATH": tempfile.mkdtemp(prefix="helpdesk-bench-load-"),
            "extra": {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"},
        }
    )
    tokens = []
    with app.app_context():
        db.session.add(CallQueue(name="support", skills={"support": 1}))
        db.session.commit()
        for n in range(opts.agents):
            user = auth.create_user(
                session=db.session,
                email=f"load-agent{n}@bench.example",
                password="bench-load-password",
                role=Role.AGENT,
                skills={"support": 3},
                languages=["fr", "en"],
            )
            tokens.append(auth.issue_token(session=db.session, user=user))
        db.session.remove()
        db.engine.dispose()
    return url, tokens


def _own_redis() -> tuple[str, subprocess.Popen[bytes] | None]:
    if REDIS_URL:
        return REDIS_URL, None
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="helpdesk-bench-redis-")
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    proc = subprocess.Popen(
        [*cmd, "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import redis

    for _ in range(100):
        try:
            redis.Redis(port=port, socket_connect_timeout=0.2).ping()
            break
        except redis.RedisError:
            time.sleep(0.05)
    return f"redis://127.0.0.1:{port}/0", proc


def _env(url: str, redis_url: str) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HELPDESK_LOG_FORMAT": "json",
        "DATABASE_URL": url,
    }


class Agent:
    """One console: a socket that takes offers, accepts them, and wraps up after the call."""

    def __init__(self, base: str, live: str, token: str, tally: Tally, talk_s: float) -> None:
        self.base, self.token, self.tally, self.talk_s = base, token, tally, talk_s
        self.live = live  # the sockets process (the Procfile's `sockets` line)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.sio = socketio.Client(reconnection=True)
        self.sio.on("screen_pop", self._pop, namespace="/agents")
        self.sio.on("*", self._other, namespace="/agents")
        self.ended: dict[int, threading.Event] = {}

    def start(self) -> None:
        self.sio.connect(
            self.live,
            namespaces=["/agents"],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=20,
        )
        r = self.http.put(self.base + "/api/v1/agents/me/presence", json={"state": "available"})
        r.raise_for_status()

    def _other(self, event: str, *_args: Any) -> None:
        with self.tally.lock:
            self.tally.received[event] += 1

    def _pop(self, data: dict[str, Any]) -> None:
        with self.tally.lock:
            self.tally.received["screen_pop"] += 1
        sid = str(data.get("call_sid", ""))
        now = time.monotonic()
        with self.tally.lock:
            queued = self.tally.queued_at.get(sid)
            if queued is not None:
                self.tally.pops[sid].append(now - queued)
        threading.Thread(target=self._handle, args=(data,), daemon=True).start()

    def _handle(self, data: dict[str, Any]) -> None:
        call_id, sid = data.get("call_id"), str(data.get("call_sid", ""))
        try:
            r = self.http.post(f"{self.base}/api/v1/calls/{call_id}/accept", timeout=15)
            if r.status_code != 200:
                self.tally.error(f"accept {sid}: {r.status_code} {r.text[:120]}")
                return
            with self.tally.lock:
                self.tally.accepted[sid] += 1
            time.sleep(self.talk_s)
            deadline = time.monotonic() + 30
            while sid not in self.tally.completed and time.monotonic() < deadline:
                time.sleep(0.05)
            r = self._wrap_up(call_id)
            if r.status_code != 200:
                self.tally.error(f"wrap-up {sid}: {r.status_code} {r.text[:120]}")
        except requests.RequestException as exc:
            self.tally.error(f"agent {sid}: {exc}")

    def _wrap_up(self, call_id: Any) -> requests.Response:
        """The wrap-up, sent again once if the kept-alive connection was closed under it (the
        server closes idle ones after 2 s, the length of a short call), as a console would."""
        url = f"{self.base}/api/v1/calls/{call_id}/wrap-up"
        body = {"disposition": "resolved", "notes": "load"}
        try:
            return self.http.post(url, json=body, timeout=15)
        except requests.ConnectionError:
            with self.tally.lock:
                self.tally.statuses["wrap-up retried after a connection error"] += 1
            return self.http.post(url, json=body, timeout=15)

    def stop(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


class Twilio:
    """Posts webhooks as Twilio does: signed over the public URL, following the TwiML."""

    def __init__(self, bases: list[str], tally: Tally) -> None:
        self.bases, self.tally = bases, tally
        self.validator = RequestValidator(AUTH_TOKEN)
        self.local = threading.local()

    def _post(self, base: str, path: str, form: dict[str, str]) -> str:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        signature = self.validator.compute_signature(base + path, form)
        started = time.monotonic()
        r = None
        for attempt in range(2):
            try:
                r = session.post(
                    base + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=15
                )
                break
            except requests.ConnectionError as exc:
                # A kept-alive connection the server closed as the request left: Twilio sends
                # the webhook again, and a retry changes nothing, so the harness does the same.
                if attempt:
                    self.tally.error(f"{path}: {exc}")
                    return ""
                with self.tally.lock:
                    self.tally.statuses[f"{path} retried after a connection error"] += 1
                started = time.monotonic()
            except requests.RequestException as exc:
                self.tally.error(f"{path}: {exc}")
                return ""
        assert r is not None
        elapsed = time.monotonic() - started
        with self.tally.lock:
            self.tally.webhook[path].append(elapsed)
            self.tally.statuses[f"{path} {r.status_code}"] += 1
        if not 200 <= r.status_code < 300:
            which = form.get("CallSid") or form.get("MessageSid")
            self.tally.error(f"{path} {which}: {r.status_code}")
        return r.text

    def call(self, i: int) -> None:
        base = self.bases[i % len(self.bases)]
        sid = f"CA{i:032d}"
        form = {"CallSid": sid, "From": f"+3361{i:08d}", "To": OUR_NUMBER, "CallStatus": "ringing"}
        self._post(base, "/twilio/voice", form)
        twiml = self._post(base, "/twilio/voice/menu", form | {"Digits": "1"})
        if "<Enqueue" not in twiml:
            self.tally.error(f"{sid}: the menu did not queue the caller")
            return
        with self.tally.lock:
            self.tally.queued_at[sid] = time.monotonic()

    def complete(self, sid: str, i: int) -> None:
        base = self.bases[i % len(self.bases)]
        form = {"CallSid": sid, "From": f"+3361{i:08d}", "To": OUR_NUMBER}
        self._post(
            base, "/twilio/voice/status", form | {"CallStatus": "completed", "CallDuration": "1"}
        )
        with self.tally.lock:
            self.tally.completed.add(sid)

    def sms(self, i: int) -> None:
        base = self.bases[i % len(self.bases)]
        form = {
            "MessageSid": f"SM{i:032d}",
            "From": f"+3362{i:08d}",
            "To": OUR_NUMBER,
            "Body": f"Bonjour, où en est mon dossier {i} ?",
            "NumMedia": "0",
        }
        self._post(base, "/twilio/sms", form)


def _paced(rate: float, seconds: float, fn: Any, pool: ThreadPoolExecutor) -> int:
    """Open loop: start `fn(i)` every 1/rate s for `seconds`, whatever the answers take."""
    count = int(rate * seconds)
    start = time.monotonic()
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        pool.submit(fn, i)
    return count


def _completer(twilio: Twilio, tally: Tally, stop: threading.Event, talk_s: float) -> None:
    """Twilio's `completed` callback `talk_s` after each accept."""
    seen: set[str] = set()
    while not stop.is_set():
        with tally.lock:
            ready = [s for s in tally.accepted if s not in seen]
        for sid in ready:
            seen.add(sid)
            threading.Timer(talk_s, twilio.complete, args=(sid, int(sid[2:]))).start()
        time.sleep(0.05)


def _worker(url: str, redis_url: str) -> subprocess.Popen[bytes]:
    env = os.environ | _env(url, redis_url) | {"SECRET_KEY": "bench-only-secret-key"}
    env["HELPDESK_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="helpdesk-bench-worker-")
    cmd = [sys.executable, "-m", "helpdesk.cli", "worker", "--concurrency", "8"]
    cmd += ["--pool", "threads", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _beat(url: str, redis_url: str) -> subprocess.Popen[bytes]:
    """The one beat of the Procfile: its sweeps expire unanswered offers and pair calls left
    waiting with agents freed."""
    env = os.environ | _env(url, redis_url) | {"SECRET_KEY": "bench-only-secret-key"}
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-beat-"))
    (workdir / "instance").mkdir()
    env["HELPDESK_INSTANCE_PATH"] = str(workdir / "instance")
    return subprocess.Popen(
        [sys.executable, "-m", "helpdesk.cli", "beat"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class RoleCpu:
    """CPU seconds used by each role of the deployment (web processes, worker, beat, Redis,
    PostgreSQL's backends for the benchmark database, the load generator), sampled around the
    load: where the time goes, measured instead of estimated."""

    def __init__(self, roles: dict[str, list[int]]) -> None:
        self.roles = roles

    @staticmethod
    def _tree(pid: int) -> list[int]:
        return [pid, *children_of(pid)]

    def sample(self) -> dict[str, dict[int, float]]:
        out = {
            role: {p: process_cpu(p) for pid in pids for p in self._tree(pid)}
            for role, pids in self.roles.items()
        }
        out["postgres"] = {p: process_cpu(p) for p in postgres_pids(DBNAME)}
        times = os.times()
        out["load generator"] = {0: times.user + times.system}
        busy, total = machine_cpu()
        out["machine"] = {-1: busy, -2: total}
        return out

    @staticmethod
    def used(
        before: dict[str, dict[int, float]],
        after: dict[str, dict[int, float]],
        calls: int,
        seconds: float,
    ) -> dict[str, Any]:
        def diff(role: str) -> float:
            then = before.get(role, {})
            return sum(max(0.0, cpu - then.get(pid, 0.0)) for pid, cpu in after[role].items())

        roles = {r: diff(r) for r in after if r != "machine"}
        busy = after["machine"][-1] - before["machine"][-1]
        total = after["machine"][-2] - before["machine"][-2]
        return {
            "seconds_by_role": {r: round(v, 1) for r, v in roles.items()},
            "ms_per_call_by_role": {r: round(v / calls * 1000, 1) for r, v in roles.items()}
            if calls
            else {},
            "ms_per_call_all_roles": round(sum(roles.values()) / calls * 1000, 1)
            if calls
            else None,
            "machine_busy_share": round(busy / total, 3) if total else None,
            "cores": os.cpu_count(),
            "window_s": round(seconds, 1),
        }


def _accounting(url: str, calls: int, sms: int, tally: Tally) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT status, count(*) FROM calls GROUP BY 1").fetchall()
        dup_calls = conn.execute(
            "SELECT count(*) FROM (SELECT call_sid FROM calls GROUP BY 1 HAVING count(*) > 1) d"
        ).fetchone()
        inbound = conn.execute(
            "SELECT count(*), count(DISTINCT message_sid) FROM sms_messages"
            " WHERE direction = 'inbound'"
        ).fetchone()
    accepted_twice = sum(1 for n in tally.accepted.values() if n > 1)
    return {
        "calls_rung": calls,
        "calls_recorded_by_status": dict(rows),
        "calls_duplicated": dup_calls[0] if dup_calls else None,
        "calls_queued": len(tally.queued_at),
        "calls_popped": len(tally.pops),
        "calls_accepted": len(tally.accepted),
        "calls_accepted_twice": accepted_twice,
        "calls_completed": len(tally.completed),
        "sms_sent": sms,
        "sms_recorded": inbound[0] if inbound else None,
        "sms_distinct": inbound[1] if inbound else None,
    }


def run(opts: Options) -> dict[str, Any]:
    url, tokens = prepare(opts)
    redis_url, redis_proc = _own_redis()
    logs = Path(tempfile.mkdtemp(prefix="helpdesk-bench-load-logs-"))
    servers = []
    for n in range(opts.web):
        port = free_port()
        # Each process is called directly (no balancer): its public URL, which Twilio signs
        # and Socket.IO accepts as the origin, is its own.
        env = _env(url, redis_url) | {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
        server = WebServer(url, logs / f"web{n}.log", port=port, extra_env=dict(env))
        servers.append(server)
    live_port = free_port()
    sockets = WebServer(
        url,
        logs / "sockets.log",
        port=live_port,
        extra_env=_env(url, redis_url) | {"PUBLIC_BASE_URL": f"http://127.0.0.1:{live_port}"},
        kind="sockets",
    )
    servers.append(sockets)
    worker = _worker(url, redis_url)
    beat = _beat(url, redis_url)
    tally = Tally()
    agents: list[Agent] = []
    stop = threading.Event()
    load = os.getloadavg()
    try:
        for server in servers:
            server.start()
        bases = [s.base_url for s in servers if s is not sockets]
        for n, token in enumerate(tokens):
            agent = Agent(bases[n % len(bases)], sockets.base_url, token, tally, opts.talk_s)
            agent.start()
            agents.append(agent)
        twilio = Twilio(bases, tally)
        completer = threading.Thread(
            target=_completer, args=(twilio, tally, stop, opts.talk_s), daemon=True
        )
        completer.start()
        cpu = RoleCpu(
            {
                "web": [s.pids()[0] for s in servers if s is not sockets],
                "sockets": sockets.pids()[:1],
                "worker": [worker.pid],
                "beat": [beat.pid],
                **({"redis": [redis_proc.pid]} if redis_proc is not None else {}),
            }
        )
        cpu_before = cpu.sample()
        started = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=64)
        sms_thread = threading.Thread(
            target=lambda: tally.statuses.update(
                {"sms_sent": _paced(opts.sms_rate, opts.seconds, twilio.sms, pool)}
            )
        )
        sms_thread.start()
        calls = _paced(opts.rate, opts.seconds, twilio.call, pool)
        sms_thread.join()
        load_s = time.monotonic() - started
        cpu_after = cpu.sample()
        # Bounded: webhooks not even sent `drain_s` after the load ended are given up on (and
        # show in the accounting as calls rung but not queued).
        give_up = threading.Timer(opts.drain_s, pool.shutdown, kwargs={"cancel_futures": True})
        give_up.start()
        pool.shutdown(wait=True)
        give_up.cancel()
        deadline = time.monotonic() + opts.drain_s
        while len(tally.completed) < len(tally.queued_at) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(opts.talk_s + 2)  # the last wrap-ups
        stop.set()
        sms = tally.statuses.pop("sms_sent", 0)
        result = {
            "machine": machine.one_line(machine.describe(pg.server_url())),
            "load_average_before": load,
            "load_average_after": os.getloadavg(),
            "options": opts.__dict__,
            "load_seconds": round(load_s, 1),
            "calls_per_second": round(calls / load_s, 2),
            "sms_per_second": round(sms / load_s, 2),
            "cpu_during_load": RoleCpu.used(cpu_before, cpu_after, calls, load_s),
            "webhooks": {p: summarise(v).brief() for p, v in tally.webhook.items()},
            "screen_pop": summarise([v[0] for v in tally.pops.values()]).brief(),
            "statuses": dict(tally.statuses),
            "socket_events_received_by_agents": dict(tally.received.most_common()),
            "errors": tally.errors[:20],
            "accounting": _accounting(url, calls, sms, tally),
        }
    finally:
        stop.set()
        for agent in agents:
            agent.stop()
        for proc in (worker, beat):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for server in servers:
            server.stop()
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.callcenter")
    parser.add_argument("--agents", type=int, default=Options.agents)
    parser.add_argument("--rate", type=float, default=Options.rate, help="new calls per second")
    parser.add_argument("--sms-rate", type=float, default=Options.sms_rate)
    parser.add_argument("--seconds", type=float, default=Options.seconds)
    parser.add_argument("--web", type=int, default=Options.web, help="web processes")
    parser.add_argument("--talk-s", type=float, default=Options.talk_s)
    parser.add_argument("--drain-s", type=float, default=Options.drain_s)
    args = parser.parse_args(argv)
    opts = Options(
        agents=args.agents,
        rate=args.rate,
        sms_rate=args.sms_rate,
        seconds=min(args.seconds, 600),
        web=args.web,
        talk_s=args.talk_s,
        drain_s=min(args.drain_s, 300),
    )
    import json
    import signal

    # A SIGTERM (from `timeout`, or Ctrl-C's cousin) still stops every process started here.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    print(json.dumps(run(opts), indent=2, default=str))


if __name__ == "__main__":
    main()
