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
import secrets
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench import machine, pg
from bench.server import ROOT, WebServer
from bench.stats import summarise

DB = "helpdesk_bench_mail_in"
THROUGHPUT_TARGET = 100.0
ARRIVAL_P95_TARGET_MS = 2000.0
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 400  # about 100 KB


@dataclass(frozen=True)
class Options:
    messages: int = 2000
    concurrency: int = 4
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


def throughput(options: Options, database_url: str) -> dict[str, Any]:
    log = Path(tempfile.mkdtemp(prefix="bench-mail-")) / "web.log"
    web = WebServer(database_url, log)
    web.start()
    try:
        token = _token(database_url, tempfile.mkdtemp(prefix="bench-mail-cli-"))
        http = requests.Session()
        http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=options.concurrency))
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
        half = options.messages // 2
        firsts = [message(i, reply_to=None) for i in range(half)]
        replies = [message(half + i, reply_to=i) for i in range(options.messages - half)]
        outcomes: dict[str, int] = {}

        def post(raw: bytes) -> float:
            started = time.perf_counter()
            answer = http.post(web.base_url + "/api/v1/mail/inbound", data=raw, headers=headers)
            answer.raise_for_status()
            outcome = answer.json()["outcome"]
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            return time.perf_counter() - started

        for raw in firsts[:50]:  # warm-up: the process, its pool, PostgreSQL's caches
            post(raw)
        started = time.perf_counter()
        with ThreadPoolExecutor(options.concurrency) as pool:
            latencies = list(pool.map(post, firsts[50:]))
            latencies += list(pool.map(post, replies))
        elapsed = time.perf_counter() - started
        timed = len(firsts) - 50 + len(replies)
        return {
            "messages": timed,
            "seconds": elapsed,
            "per_second": timed / elapsed,
            "latency": summarise(latencies),
            "outcomes": outcomes,
        }
    finally:
        web.stop()


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


def arrival(options: Options, database_url: str) -> dict[str, Any]:
    from imapclient import IMAPClient

    sys.path.insert(0, str(ROOT))
    from helpdesk.app import create_app
    from helpdesk.extensions import db
    from helpdesk.mail import inbound
    from helpdesk.mail.imap import MailboxReader, parse_url
    from tests.dovecot import Dovecot, available

    missing = available()
    if missing:
        raise SystemExit(missing)
    server = Dovecot.start(Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp")))
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
    stop = threading.Event()

    def work() -> None:
        with app.app_context():
            reader = MailboxReader(
                db.session,
                parse_url(server.url),
                lambda s, raw, source: inbound.ingest(s, raw, source=source),
                done_folder="Helpdesk",
            )
            reader.run(stop, idle_s=300, poll_s=30)

    worker = threading.Thread(target=work, daemon=True)
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
        first = throughput(options, url)
        print(
            f"1. ingress: {first['messages']} messages in {first['seconds']:.1f} s = "
            f"{first['per_second']:.0f}/s (target >= {THROUGHPUT_TARGET:.0f}/s: "
            f"{'met' if first['per_second'] >= THROUGHPUT_TARGET else 'NOT met'}); "
            f"latency p50 {first['latency'].p50_ms:.1f} ms, p95 {first['latency'].p95_ms:.1f} ms;"
            f" outcomes {first['outcomes']}"
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
