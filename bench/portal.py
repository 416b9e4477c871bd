"""Portal benchmark: a signed-in customer's pages on a database of a million tickets.

The database is the foundation one (`bench.datagen`, a million tickets at `--scale 1`). Two
customers are measured: a typical one (`--portal-typical` tickets, 20 by default) and the one
with the most tickets (the generator's heavy customer: 10,000 at full scale), to show that the
pages do not grow with a customer's history. Each gets a portal session written as a redeemed
sign-in link writes it (`helpdesk.portal.links.redeem`: a random secret in the cookie, its
digest in `portal_sessions`).

For each customer, "My requests" (`/portal/requests`) and one request (`/portal/requests/<id>`,
cycling through the customer's tickets) are fetched `--portal-requests` times by
`--portal-clients` concurrent keep-alive connections to the Procfile's web process, after a
warm-up; p50 / p95 / max of the time to the whole answer. The list's query is also run under
EXPLAIN (ANALYZE, BUFFERS) for the heavy customer; the plan goes to `bench/results/`.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import requests
from flask.testing import FlaskClient
from tqdm import tqdm

from bench import foundation, machine, pg
from bench.inprocess import QueryLog, application, engine_of
from bench.report import Figure, Run, save
from bench.server import WebServer
from bench.stats import Summary, summarise, time_calls
from helpdesk.portal import tokens
from helpdesk.portal.service import LIST_LIMIT

DB = "helpdesk_bench_portal"
RESULTS = Path(__file__).resolve().parent / "results"
PAGE_TARGET_MS = 100.0
COOKIE = "helpdesk_portal"  # agents_ui.portal_session.COOKIE
LIST_SQL = (
    "SELECT * FROM tickets WHERE requester_id = %s ORDER BY updated_at DESC, id DESC LIMIT %s"
)


@dataclass(frozen=True)
class Options:
    scale: float = 1.0
    requests: int = 500
    clients: int = 4
    warmup: int = 40
    typical: int = 20
    keep: bool = False
    reuse: bool = False


@dataclass(frozen=True)
class Customer:
    label: str
    id: int
    tickets: int
    ticket_ids: list[int]
    cookie: str


def typical_customer(conn: psycopg.Connection, wanted: int) -> int:
    row = conn.execute(
        "SELECT requester_id FROM tickets GROUP BY requester_id HAVING count(*) = %s "
        "ORDER BY requester_id LIMIT 1",
        (wanted,),
    ).fetchone()
    if row is None:
        raise SystemExit(f"no customer with exactly {wanted} tickets; change --portal-typical")
    return int(row[0])


def signed_in(conn: psycopg.Connection, label: str, customer_id: int) -> Customer:
    """A live portal session for the customer, as a redeemed sign-in link leaves it."""
    key = tokens.new_secret()
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO portal_sessions (customer_id, key_hash, locale, created_at, expires_at) "
        "VALUES (%s, %s, 'en', %s, %s)",
        (customer_id, tokens.digest(key), now, now + tokens.SESSION_TTL),
    )
    conn.commit()
    rows = conn.execute(
        "SELECT id FROM tickets WHERE requester_id = %s ORDER BY updated_at DESC, id DESC",
        (customer_id,),
    ).fetchall()
    ids = [int(r[0]) for r in rows]
    return Customer(label, customer_id, len(ids), ids[:LIST_LIMIT], key)


def concurrent_gets(
    url_for: Callable[[int], str], cookie: str, *, total: int, clients: int
) -> Summary:
    """`total` GETs shared by `clients` threads, each on its own keep-alive connection; a
    redirect (the sign-in page) or any status but 200 stops the run."""
    counter = itertools.count()
    lock = threading.Lock()
    timings: list[float] = []

    def client() -> None:
        with requests.Session() as session:
            session.cookies.set(COOKIE, cookie, path="/portal")
            while True:
                with lock:
                    i = next(counter)
                if i >= total:
                    return
                url = url_for(i)
                started = time.perf_counter()
                response = session.get(url, timeout=60, allow_redirects=False)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise RuntimeError(f"GET {url}: {response.status_code}")
                with lock:
                    timings.append(elapsed)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    return summarise(timings)


def measure_pages(run: Run, web: WebServer, customer: Customer) -> None:
    opts = run.options
    pages: dict[str, Callable[[int], str]] = {
        "/portal/requests": lambda _i: web.base_url + "/portal/requests",
        "/portal/requests/<id>": lambda i: (
            f"{web.base_url}/portal/requests/{customer.ticket_ids[i % len(customer.ticket_ids)]}"
        ),
    }
    for page, url_for in pages.items():
        concurrent_gets(url_for, customer.cookie, total=opts.warmup, clients=opts.clients)
        summary = concurrent_gets(
            url_for, customer.cookie, total=opts.requests, clients=opts.clients
        )
        name = f"{page}, customer with {customer.tickets} tickets"
        tqdm.write(f"{name:<56} {summary.brief()}")
        run.details.setdefault("pages", {})[name] = summary.as_dict()
        run.add(
            Figure(
                f"{name}, {opts.clients} clients via gunicorn: p50 / p95 / max",
                f"p95 <= {PAGE_TARGET_MS:.0f} ms",
                f"{summary.p50_ms:.1f} / {summary.p95_ms:.1f} / {summary.max_ms:.1f} ms"
                f" (n={summary.n})",
                summary.p95_ms <= PAGE_TARGET_MS,
                group=1 if customer.label == "typical" else 2,
            )
        )


def in_process(run: Run, database_url: str, customers: list[Customer]) -> None:
    """SQL statements of each page, and its time with one client and no network (the
    application's own share, which the figures through gunicorn add queueing to)."""
    with application(database_url) as app:
        log = QueryLog(engine_of(app))
        for customer in customers:
            client = app.test_client()
            client.set_cookie(COOKIE, customer.cookie, path="/portal")
            first = customer.ticket_ids[0]
            _page_in_process(run, client, log, customer, "/portal/requests", "/portal/requests")
            _page_in_process(
                run, client, log, customer, "/portal/requests/<id>", f"/portal/requests/{first}"
            )


def _page_in_process(
    run: Run, client: FlaskClient, log: QueryLog, customer: Customer, page: str, url: str
) -> None:
    def get(_i: int) -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")

    with log.attached():
        get(0)
    statements = log.count
    summary = time_calls(get, samples=100, warmup=10)
    name = f"{page}, customer with {customer.tickets} tickets, in process"
    tqdm.write(f"{name:<68} {statements} statements; {summary.brief()}")
    run.details.setdefault("in_process", {})[name] = {
        "statements": statements,
        "latency": summary.as_dict(),
    }
    run.add(
        Figure(
            f"{name}: SQL statements; p50 / p95, one client",
            "reported",
            f"{statements}; {summary.p50_ms:.1f} / {summary.p95_ms:.1f} ms",
            None,
            group=3,
        )
    )


def explain_list(run: Run, conn: psycopg.Connection, customer: Customer) -> None:
    rows = conn.execute(
        "EXPLAIN (ANALYZE, BUFFERS) " + LIST_SQL, (customer.id, LIST_LIMIT)
    ).fetchall()
    run.plans.append(
        f"-- list of customer {customer.id} ({customer.tickets} tickets)\n"
        + "\n".join(str(r[0]) for r in rows)
    )
    tqdm.write(run.plans[-1])


def run(opts: Options) -> Run:
    server = pg.server_url()
    result = Run(options=opts, machine=machine.describe(server))
    tqdm.write("portal benchmark on " + machine.one_line(result.machine))
    started = time.perf_counter()
    RESULTS.mkdir(exist_ok=True)
    try:
        layout = foundation.prepare(server, DB, opts.scale, secrets.token_urlsafe(16), opts.reuse)
        with psycopg.connect(pg.libpq_url(server, DB)) as conn:
            result.details["tickets"] = conn.execute("SELECT count(*) FROM tickets").fetchone()
            customers = [
                signed_in(conn, "typical", typical_customer(conn, opts.typical)),
                signed_in(conn, "heavy", layout.heavy_customer_id),
            ]
            explain_list(result, conn, customers[1])
        result.details["customers"] = {c.label: (c.id, c.tickets) for c in customers}
        in_process(result, pg.sqlalchemy_url(server, DB), customers)
        web = WebServer(
            pg.sqlalchemy_url(server, DB),
            RESULTS / f"portal-{result.started:%Y%m%dT%H%M%SZ}-web.log",
        )
        try:
            web.start()
            for customer in customers:
                measure_pages(result, web, customer)
        finally:
            web.stop()
    finally:
        if not opts.keep:
            pg.drop_database(server, DB)
    result.details["seconds"] = time.perf_counter() - started
    result.machine["load_average_at_end"] = machine.load_average()
    save(result, "portal", RESULTS)
    return result
