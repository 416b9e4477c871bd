"""Bulk benchmark: a status change of 1,000 tickets through `POST /api/v1/tickets/bulk`, and its
undo, on PostgreSQL.

The database is a fresh one filled by the foundation generator (`bench.datagen`) at `--scale`
(100,000 tickets by default: enough unresolved tickets to pick 1,000 from; the bulk change loads
and writes only the tickets it names, so the table's size weighs on it only through its indexes).

1. Once in process (Flask's test client), the SQL statements of one change and of its undo are
   counted, divided by the tickets they touched: the figure that says whether the service writes a
   ticket in a constant number of statements.
2. Through the Procfile's web process, `--repeats` changes of the same 1,000 tickets, the status
   alternating between `pending` and `on_hold`, each followed by its undo (back to `open`): the
   time from sending the request to reading its answer, p50 and max, for the change and the undo.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests
from tqdm import tqdm

from bench import foundation, machine, pg
from bench.inprocess import ApiClient, QueryLog, application, engine_of
from bench.report import Figure, Run, save
from bench.server import CpuSample, WebServer
from bench.stats import Summary, summarise

DB = "helpdesk_bench_bulk"
RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = ("pending", "on_hold")  # alternated; every undo brings the tickets back to `open`
BULK_URL = "/api/v1/tickets/bulk"


@dataclass(frozen=True)
class Options:
    scale: float = 0.1
    tickets: int = 1_000
    repeats: int = 5
    keep: bool = False
    reuse: bool = False


def pick_tickets(url: str, count: int) -> list[int]:
    """The newest unresolved tickets (the ones an agent would select in bulk)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id FROM tickets WHERE status IN ('open', 'pending', 'on_hold') "
            "AND merged_into_id IS NULL ORDER BY id DESC LIMIT %s",
            (count,),
        ).fetchall()
    if len(rows) < count:
        raise SystemExit(f"only {len(rows)} unresolved tickets; raise --scale")
    return sorted(r[0] for r in rows)


def _check_change(answer: dict[str, Any], expected: int, what: str) -> None:
    done = answer.get("changed", answer.get("restored", []))
    if len(done) != expected or answer.get("skipped"):
        raise RuntimeError(
            f"{what}: {len(done)} of {expected} tickets done, skipped {answer.get('skipped')}"
        )


def statement_kinds(log: QueryLog) -> dict[str, int]:
    """The statements by verb and table (`UPDATE tickets`), most frequent first."""
    kinds: Counter[str] = Counter()
    for statement, _params in log.statements:
        words = statement.split()
        verb = words[0].upper() if words else "?"
        upper = [w.upper() for w in words]
        after = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE", "DELETE": "FROM"}
        marker = after.get(verb)
        table = words[upper.index(marker) + 1] if marker in upper[: len(upper) - 1] else ""
        kinds[f"{verb} {table}".strip()] += 1
    return dict(kinds.most_common())


def _post(api: ApiClient, url: str, body: dict[str, Any]) -> Any:
    response = api.client.post(url, json=body, headers=api.headers)
    if response.status_code != 200:
        raise RuntimeError(f"POST {url}: {response.status_code} {response.text[:300]}")
    return response.json


def count_statements(run: Run, server: str, password: str, ids: list[int]) -> None:
    """Figure 1: statements per ticket of one change and of its undo, in process."""
    tqdm.write(f"\n[1] statements of a bulk change of {len(ids)} tickets, in process")
    with application(pg.sqlalchemy_url(server, DB)) as app:
        api = ApiClient.login(app, password)
        log = QueryLog(engine_of(app), keep_statements=True)
        _post(api, BULK_URL, {"ids": ids, "set": {"status": "open"}})  # the starting point
        with log.attached():
            answer = _post(api, BULK_URL, {"ids": ids, "set": {"status": TARGETS[0]}})
        change = log.count
        kinds = statement_kinds(log)
        _check_change(answer, len(ids), "change")
        with log.attached():
            undone = _post(api, f"{BULK_URL}/{answer['change_id']}/undo", {})
        undo = log.count
        _check_change(undone, len(ids), "undo")
    per_change, per_undo = change / len(ids), undo / len(ids)
    tqdm.write(f"change: {change} statements ({per_change:.2f} per ticket); undo: {undo}")
    tqdm.write("statements of the change: " + ", ".join(f"{k} x{n}" for k, n in kinds.items()))
    run.details["statements"] = {
        "change": change,
        "undo": undo,
        "tickets": len(ids),
        "change_kinds": kinds,
    }
    run.add(
        Figure(
            f"bulk status change of {len(ids)} tickets: SQL statements per ticket (change / undo)",
            "constant per ticket",
            f"{per_change:.2f} / {per_undo:.2f} ({change} / {undo} statements)",
            None,
            group=1,
        )
    )


def _timed_post(session: requests.Session, url: str, body: dict[str, Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    response = session.post(url, json=body, timeout=600)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"POST {url}: {response.status_code} {response.text[:300]}")
    return elapsed, response.json()


def measure_http(run: Run, web: WebServer, token: str, ids: list[int]) -> None:
    """Figure 2: request to answer, for the change and for its undo, through gunicorn."""
    repeats = run.options.repeats
    tqdm.write(f"\n[2] {repeats} bulk changes of {len(ids)} tickets and their undo, via gunicorn")
    changes: list[float] = []
    undos: list[float] = []
    before = CpuSample.take(web.pids(), DB)
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for i in range(repeats):
            target = TARGETS[i % len(TARGETS)]
            seconds, answer = _timed_post(
                session, web.base_url + BULK_URL, {"ids": ids, "set": {"status": target}}
            )
            _check_change(answer, len(ids), f"change to {target}")
            changes.append(seconds)
            undo_url = f"{web.base_url}{BULK_URL}/{answer['change_id']}/undo"
            undo_seconds, undone = _timed_post(session, undo_url, {})
            _check_change(undone, len(ids), "undo")
            undos.append(undo_seconds)
            tqdm.write(f"open -> {target}: {seconds:.2f} s; undo: {undo_seconds:.2f} s")
    cpu = CpuSample.take(web.pids(), DB).used_since(before)
    per_ticket = {
        k[:-2]: v / (2 * repeats * len(ids)) * 1000
        for k, v in cpu.items()
        if k in ("server_s", "postgres_s")
    }
    busy = cpu["machine_busy_s"] / cpu["machine_total_s"] if cpu["machine_total_s"] else 0.0
    tqdm.write(
        "CPU ms per ticket changed or restored: "
        + ", ".join(f"{k} {v:.2f}" for k, v in per_ticket.items())
        + f"; machine busy {busy:.0%}"
    )
    run.details["cpu_ms_per_ticket"] = per_ticket
    run.details["machine_busy"] = busy
    run.add(
        Figure(
            "bulk change and undo, HTTP: CPU per ticket, web process / PostgreSQL",
            "reported",
            f"{per_ticket['server']:.2f} / {per_ticket['postgres']:.2f} ms"
            f" (machine busy {busy:.0%})",
            None,
            group=2,
        )
    )
    for name, series in (("change", changes), ("undo", undos)):
        summary = summarise(series)
        run.details[name] = {"seconds": series, "latency": summary.as_dict()}
        run.add(_figure(name, len(ids), summary))


def _figure(name: str, tickets: int, summary: Summary) -> Figure:
    what = "status change" if name == "change" else "undo of the change"
    return Figure(
        f"bulk {what} of {tickets} tickets, HTTP via gunicorn: time to answer p50 / max",
        "reported",
        f"{summary.p50_ms / 1000:.2f} / {summary.max_ms / 1000:.2f} s (n={summary.n})",
        None,
        group=2,
    )


def run(opts: Options) -> Run:
    server = pg.server_url()
    result = Run(options=opts, machine=machine.describe(server))
    tqdm.write("bulk benchmark on " + machine.one_line(result.machine))
    started = time.perf_counter()
    password = secrets.token_urlsafe(16)
    RESULTS.mkdir(exist_ok=True)
    try:
        foundation.prepare(server, DB, opts.scale, password, opts.reuse)
        ids = pick_tickets(pg.libpq_url(server, DB), opts.tickets)
        count_statements(result, server, password, ids)
        web = WebServer(
            pg.sqlalchemy_url(server, DB),
            RESULTS / f"bulk-{result.started:%Y%m%dT%H%M%SZ}-web.log",
            extra_env={"WEB_THREADS": None},
        )
        try:
            web.start()
            measure_http(result, web, foundation.http_token(web, password), ids)
        finally:
            web.stop()
    finally:
        if not opts.keep:
            pg.drop_database(server, DB)
    result.details["seconds"] = time.perf_counter() - started
    result.machine["load_average_at_end"] = machine.load_average()
    save(result, "bulk", RESULTS)
    return result
