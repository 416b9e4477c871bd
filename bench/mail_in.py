"""Inbound e-mail benchmark: the raw-MIME ingress's throughput on PostgreSQL, and the time from a
message's arrival in an IMAP mailbox to its live event.

1. `POST /api/v1/mail/inbound` on the Procfile's web process (gunicorn, one process), on a fresh
   PostgreSQL database, with an integration token: `messages` real-shaped messages (a Gmail-like
   multipart/alternative of a few KB, with its quoted history), posted by `concurrency` clients
   as fast as they are answered. Half open a ticket (a first message from a new address: a new
   customer), half answer one of those by `In-Reply-To` (a comment, with the quote split off);
   one in ten carries a 100 KB PDF. Target: at least 100 messages per second.
2. IMAP arrival to the live event: a real Dovecot on loopback (`make dovecot`), the IMAP worker
   (`MailboxReader.run`, IDLE) in this process on the same database; a message is appended to
   the inbox every `interval_s` seconds by another IMAP connection, and the time runs from just
   before the APPEND to the `mail.received` event leaving the event backend (after the commit,
   which is when the console's socket gets it). Target: p95 at most 2 s.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import requests

from bench import machine, pg
from bench.screenpop import redis_url as bench_redis_url
from bench.server import ROOT, WebServer, machine_cpu, postgres_pids, process_cpu
from bench.stats import summarise

DB = "helpdesk_bench_mail_in"
THROUGHPUT_TARGET = 100.0
ARRIVAL_P95_TARGET_MS = 2000.0
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 400  # about 100 KB


@dataclass(frozen=True)
class Options:
    messages: int = 2000
    concurrency: int = 6
    arrivals: int = 60
    interval_s: float = 0.5


def message(i: int, *, reply_to: int | None) -> bytes:
    """A Gmail-shaped message: text and HTML, a quoted history on replies, a PDF now and then."""
    sender = f"customer{reply_to if reply_to is not None else i}@bench.example"
    subject = f"Re: Order {reply_to}" if reply_to is not None else f"Order {i}"
    thread = f"In-Reply-To: <bench-{reply_to}@bench.example>\r\n" if reply_to is not None else ""
    quote = (
        "\r\n\r\nOn Tue, Dec 1, 2026 at 10:02 AM Support <support@helpdesk.example> wrote:\r\n"
        + "> Hello, could you send us the reference of your order?\r\n" * 8
        if reply_to is not None
        else ""
    )
    text = f"Hello,\r\n\r\nMy order {i} has not arrived; it was due last week.\r\n\r\nThanks{quote}"
    head = (
        f"From: Customer {i} <{sender}>\r\nTo: support@helpdesk.example\r\n"
        f"Subject: {subject}\r\nMessage-ID: <bench-{i}@bench.example>\r\n{thread}"
        "Date: Wed, 2 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    )
    alternative = (
        'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
        f"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"<div>{text.replace(chr(13) + chr(10), '<br>')}</div>\r\n--alt--\r\n"
    )
    if i % 10:
        return (head + alternative).encode()
    return (
        head
        + 'Content-Type: multipart/mixed; boundary="mix"\r\n\r\n--mix\r\n'
        + alternative
        + "--mix\r\nContent-Type: application/pdf\r\n"
        + f'Content-Disposition: attachment; filename="order-{i}.pdf"\r\n'
        + "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(PDF).decode()
        + "--mix--\r\n"
    ).encode()


def _token(database_url: str, instance: str) -> str:
    from helpdesk.app import create_app
    from helpdesk.auth import service
    from helpdesk.auth.models import Role
    from helpdesk.extensions import db

    app = create_app(
        {"DATABASE_URL": database_url, "HELPDESK_INSTANCE_PATH": instance, "SECRET_KEY": "b"},
        role="cli",
    )
    with app.app_context():
        user = service.create_user(
            session=db.session,
            email="ingress@bench.example",
            password=secrets.token_urlsafe(16),
            role=Role.INTEGRATION,
            name="Ingress",
        )
        return service.issue_token(session=db.session, user=user)


def _timed_posts(
    options: Options, urls: list[str], token: str, offset: int
) -> tuple[list[float], dict[str, int], int]:
    """Post the warm-up untimed, then the rest timed; returns latencies, outcomes, count."""
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=options.concurrency))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    half = options.messages // 2
    firsts = [message(offset + i, reply_to=None) for i in range(half)]
    replies = [message(offset + half + i, reply_to=offset + i) for i in range(half)]
    outcomes: dict[str, int] = {}
    counting = threading.Lock()

    def post(item: tuple[int, bytes]) -> float:
        started = time.perf_counter()
        url = urls[item[0] % len(urls)] + "/api/v1/mail/inbound"
        answer = http.post(url, data=item[1], headers=headers)
        answer.raise_for_status()
        outcome = answer.json()["outcome"]
        with counting:  # the clients are threads: a bare read-and-add loses counts
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        return time.perf_counter() - started

    for item in enumerate(firsts[:50]):  # warm-up: the processes, pools, PostgreSQL's caches
        post(item)
    outcomes.clear()
    with ThreadPoolExecutor(options.concurrency) as pool:
        latencies = list(pool.map(post, enumerate(firsts[50:])))
        latencies += list(pool.map(post, enumerate(replies)))
    return latencies, outcomes, len(latencies)


def throughput(
    options: Options,
    database_url: str,
    token: str,
    *,
    processes: int,
    offset: int,
    redis_url: str = "",
) -> dict[str, Any]:
    """Messages a second through `processes` web processes (the Procfile's `web`, each on its
    own port, as docs/operations.md deploys it), with the CPU they and PostgreSQL (and Redis)
    spent. With `redis_url` it is the scaled-out form: events, rate limits and task sends go to
    Redis, and the acknowledgements wait there for a Celery worker (none runs: the outbox has a
    figure of its own); without, the embedded form, where they are sent in the web process."""
    folder = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    env: dict[str, str | None] = {"REDIS_URL": redis_url} if redis_url else {}
    webs = [
        WebServer(database_url, folder / f"web{n}.log", extra_env=env) for n in range(processes)
    ]
    if redis_url:
        redis.Redis.from_url(redis_url).flushdb()
    try:
        for web in webs:
            web.start()
        pids = [p for web in webs for p in web.pids()] + postgres_pids(DB)
        if redis_url:
            pids += redis_pids()
        cpu_before = sum(process_cpu(p) for p in pids)
        client_before = sum(os.times()[:2])
        busy_before, total_before = machine_cpu()
        started = time.perf_counter()
        latencies, outcomes, timed = _timed_posts(
            options, [w.base_url for w in webs], token, offset
        )
        elapsed = time.perf_counter() - started
        cpu = sum(process_cpu(p) for p in pids) - cpu_before
        client = sum(os.times()[:2]) - client_before
        busy_after, total_after = machine_cpu()
        queued = redis.Redis.from_url(redis_url).llen("celery") if redis_url else 0
    finally:
        for web in webs:
            web.stop()
        if redis_url:
            redis.Redis.from_url(redis_url).flushdb()
    return {
        "processes": processes,
        "form": "scaled-out (Redis)" if redis_url else "embedded (no Redis)",
        "messages": timed,
        "seconds": elapsed,
        "per_second": timed / elapsed,
        # The web processes' and their PostgreSQL backends' (and Redis's) CPU per message, the
        # clients' own, and how busy the whole machine was (other work included) while they ran.
        "cpu_ms_per_message": cpu / timed * 1000,
        "client_ms_per_message": client / timed * 1000,
        "machine_busy": (busy_after - busy_before) / max(total_after - total_before, 1e-9),
        "latency": summarise(latencies),
        "outcomes": outcomes,
        "tasks_queued": queued,
    }


def redis_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "redis-server":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class _Timestamps:
    """The app's event backend, wrapped: notes when each `mail.received` leaves it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: dict[str, float] = {}

    def emit(self, evt: Any) -> None:
        if evt.name == "mail.received":
            self.seen[str(evt.payload.get("subject", ""))] = time.perf_counter()
        self.inner.emit(evt)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _watching_app(database_url: str, server: Any) -> tuple[Any, _Timestamps, Any]:
    """The app, its timestamped event backend, and the IMAP worker's body (run on a thread)."""
    from helpdesk.app import create_app
    from helpdesk.extensions import db
    from helpdesk.mail import inbound
    from helpdesk.mail.imap import MailboxReader, parse_url

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "HELPDESK_INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-mail-app-"),
            "SECRET_KEY": "b",
        },
        role="worker",
    )
    stamps = _Timestamps(app.extensions["helpdesk_events"])
    app.extensions["helpdesk_events"] = stamps

    def work(stop: threading.Event) -> None:
        with app.app_context():
            reader = MailboxReader(
                db.session,
                parse_url(server.url),
                lambda s, raw, source: inbound.ingest(s, raw, source=source),
                done_folder="Helpdesk",
            )
            reader.run(stop, idle_s=300, poll_s=30)

    return app, stamps, work


def arrival(options: Options, database_url: str) -> dict[str, Any]:
    from imapclient import IMAPClient

    sys.path.insert(0, str(ROOT))
    from tests.dovecot import Dovecot, available

    missing = available()
    if missing:
        raise SystemExit(missing)
    server = Dovecot.start(Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp")))
    _app, stamps, work = _watching_app(database_url, server)
    stop = threading.Event()
    worker = threading.Thread(target=work, args=(stop,), daemon=True)
    worker.start()
    time.sleep(1.5)
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
    client.login(server.user, server.password)
    sent: dict[str, float] = {}
    try:
        for n in range(options.arrivals):
            subject = f"Arrival {n}"
            raw = message(100_000 + n, reply_to=None).replace(
                f"Subject: Order {100_000 + n}".encode(), f"Subject: {subject}".encode()
            )
            sent[subject] = time.perf_counter()
            client.append("INBOX", raw)
            time.sleep(options.interval_s)
        deadline = time.monotonic() + 10
        while len(stamps.seen) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(10)
        client.logout()
        server.stop()
    delays = [stamps.seen[s] - t for s, t in sent.items() if s in stamps.seen]
    return {"arrivals": len(sent), "seen": len(delays), "delay": summarise(delays)}


def run(options: Options = Options()) -> None:
    server = pg.server_url()
    pg.create_database(server, DB)
    url = pg.sqlalchemy_url(server, DB)
    from helpdesk.migrate import upgrade

    upgrade(url)
    info = machine.describe(server)
    print(machine.one_line(info))
    try:
        token = _token(url, tempfile.mkdtemp(prefix="bench-mail-cli-"))
        rurl = bench_redis_url()
        runs = [(1, ""), (1, rurl), (2, rurl)]
        for n, (processes, form) in enumerate(runs, start=1):
            first = throughput(
                options, url, token, processes=processes, offset=n * 1_000_000, redis_url=form
            )
            print(
                f"1. ingress, {first['form']}, {processes} web process(es): {first['messages']} "
                f"messages in {first['seconds']:.1f} s = {first['per_second']:.0f}/s (target >= "
                f"{THROUGHPUT_TARGET:.0f}/s: "
                f"{'met' if first['per_second'] >= THROUGHPUT_TARGET else 'NOT met'}); latency "
                f"p50 {first['latency'].p50_ms:.1f} ms, p95 {first['latency'].p95_ms:.1f} ms; "
                f"outcomes {first['outcomes']}; server CPU (web, PostgreSQL, Redis) "
                f"{first['cpu_ms_per_message']:.1f} ms a message, clients "
                f"{first['client_ms_per_message']:.1f} ms; acknowledgements queued for the "
                f"workers {first['tasks_queued']}; machine busy {first['machine_busy']:.0%}"
            )
        second = arrival(options, url)
        delay = second["delay"]
        print(
            f"2. IMAP arrival to live event (IDLE): {second['seen']}/{second['arrivals']} seen; "
            f"p50 {delay.p50_ms:.0f} ms, p95 {delay.p95_ms:.0f} ms, max {delay.max_ms:.0f} ms "
            f"(target p95 <= {ARRIVAL_P95_TARGET_MS:.0f} ms: "
            f"{'met' if delay.p95_ms <= ARRIVAL_P95_TARGET_MS else 'NOT met'})"
        )
    finally:
        pg.drop_database(server, DB)


if __name__ == "__main__":
    run()
