"""SLA benchmark: business-time arithmetic, and the breach scan over a million open tickets.

Figures, each against the target the SLA issue set:

1. due dates computed per second by `BusinessCalendar.add_business_seconds` on an office-hours
   calendar with French public holidays (built as `helpdesk.sla.service.calendar_of` builds it),
   for 50,000 random starts over a year and targets from one hour to three days of business time;
   `business_seconds` per second over the same spans;
2. one breach scan, `helpdesk.sla.service.scan(db.session, now=..., limit=1000)`, on PostgreSQL
   holding 1,000,000 open tickets with running clocks, of which exactly N have fallen due
   (N = 1,000 and N = 10, several runs each; the due clocks are set up again before every run,
   since the scan flags them), with the EXPLAIN (ANALYZE, BUFFERS) of its statements.

The scan runs in the benchmark's process inside an app made by `create_app` with TESTING set, so
its live events go to the in-memory recorder (and are counted) rather than to Socket.IO.
"""

from __future__ import annotations

import gc
import random
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from flask import Flask
from tqdm import tqdm

from bench import datagen, machine, pg, sla_data
from bench.foundation import RESULTS, prepare
from bench.inprocess import QueryLog, explain
from bench.report import Figure, Run, markdown_table, save
from bench.stats import GcPauses, Summary, summarise
from helpdesk.app import create_app
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.sla.service import scan

SLA_DB = "helpdesk_bench_sla"
ADD_TARGET_PER_S = 20_000.0
SCAN_TARGET_MS = 200.0
SCAN_LIMIT = 1_000
CHEAPER_FACTOR = 10.0  # "clearly cheaper": N = 10 at most a tenth of N = 1,000
DUE_COUNTS = (1_000, 10)
NOW = datagen.NOW  # the instant the data is built around; every scan runs "now"


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    scale: float = 1.0
    calendar_samples: int = 50_000
    repeats: int = 7
    keep: bool = False
    reuse: bool = False


# -- 1. the calendar -------------------------------------------------------------------------------


def _rate(calls: int, timings: Sequence[float]) -> float:
    total = sum(timings)
    return calls / total if total else 0.0


def measure_calendar(run: Run, opts: Options) -> None:
    """Three passes over the same starts and targets; the figure is the median pass, since a
    pass on a shared machine can lose a third of its speed to other work."""
    tqdm.write("\n[1] business-time arithmetic on Mon-Fri 09:00-12:00/13:30-18:00 Europe/Paris, FR")
    built = time.perf_counter()
    calendar = sla_data.office_calendar(utcnow())
    build_ms = (time.perf_counter() - built) * 1000
    rng = random.Random(datagen.SEED + 40)
    year = datetime(NOW.year, 1, 1, tzinfo=UTC)
    starts = [
        year + timedelta(seconds=rng.uniform(0, 365 * 86_400)) for _ in range(opts.calendar_samples)
    ]
    targets = [rng.uniform(3_600, 3 * 86_400) for _ in range(opts.calendar_samples)]
    adds: list[dict[str, Any]] = []
    elapsed: list[dict[str, Any]] = []
    for _ in range(3):
        timings, dues = [], []
        for start, seconds in zip(starts, targets, strict=True):
            t0 = time.perf_counter()
            due = calendar.add_business_seconds(start, seconds)
            timings.append(time.perf_counter() - t0)
            dues.append(due)
        adds.append({"per_second": _rate(len(timings), timings), "latency": summarise(timings)})
        timings = []
        for start, due in zip(starts, dues, strict=True):
            t0 = time.perf_counter()
            calendar.business_seconds(start, due)
            timings.append(time.perf_counter() - t0)
        elapsed.append({"per_second": _rate(len(timings), timings), "latency": summarise(timings)})
    tqdm.write(f"calendar built in {build_ms:.0f} ms ({len(calendar.holidays)} public holidays)")
    for name, passes in (("add_business_seconds", adds), ("business_seconds", elapsed)):
        for i, result in enumerate(passes, start=1):
            tqdm.write(
                f"{name:<21} pass {i}: {result['per_second']:9,.0f}/s  {result['latency'].brief()}"
            )
    run.details["calendar"] = {
        "build_ms": build_ms,
        "holidays": len(calendar.holidays),
        "samples": opts.calendar_samples,
        **{
            name: [{"per_second": r["per_second"], "latency": r["latency"].as_dict()} for r in rs]
            for name, rs in (("add_business_seconds", adds), ("business_seconds", elapsed))
        },
    }
    n = f"{opts.calendar_samples:,}"
    add = _median_pass(adds)
    run.add(
        Figure(
            f"`add_business_seconds`, {n} starts over a year, targets 1 h-3 days",
            f">= {ADD_TARGET_PER_S:,.0f}/s",
            _pass_text(add, adds),
            add["per_second"] >= ADD_TARGET_PER_S,
            group=1,
        )
    )
    run.add(
        Figure(
            "`business_seconds(start, due)` over the same spans",
            "-",
            _pass_text(_median_pass(elapsed), elapsed),
            None,
            group=1,
        )
    )


def _median_pass(passes: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(passes, key=lambda r: r["per_second"])[len(passes) // 2]


def _pass_text(median: dict[str, Any], passes: list[dict[str, Any]]) -> str:
    each = " / ".join(f"{r['per_second']:,.0f}" for r in passes)
    latency: Summary = median["latency"]
    return (
        f"{median['per_second']:,.0f}/s (passes {each}; p50 {_us(latency.p50_ms)}, "
        f"p99 {_us(latency.p99_ms)} per call)"
    )


def _us(ms: float) -> str:
    return f"{ms * 1000:.0f} µs"


# -- 2. the breach scan ----------------------------------------------------------------------------

SCHEDULE_COLUMNS = (
    "state",
    "running_since",
    "started_at",
    "elapsed_seconds",
    "due_at",
    "at_risk_at",
    "at_risk_notified",
    "breach_notified",
    "breached_at",
    "next_check_at",
)


@dataclass
class DueClocks:
    """The designated clocks, with the values that make each fall due and its values as built."""

    ids: list[int]
    built: dict[int, dict[str, Any]]
    due: dict[int, dict[str, Any]]

    @classmethod
    def read(cls, conn: psycopg.Connection, sizes: datagen.Sizes) -> DueClocks:
        ids = sla_data.designated(sizes)
        cols = ", ".join(("id", "target_seconds", *SCHEDULE_COLUMNS))
        rows = conn.execute(f"SELECT {cols} FROM sla_clocks WHERE id = ANY(%s)", (ids,)).fetchall()
        by_id = {r[0]: r for r in rows}
        tl = sla_data.timeline(sla_data.office_calendar())
        rng = random.Random(datagen.SEED + 50)
        built, due = {}, {}
        for cid in ids:
            row = by_id[cid]
            built[cid] = dict(zip(SCHEDULE_COLUMNS, row[2:], strict=True))
            due[cid] = sla_data.due_values(tl, rng, row[1])
        return cls(ids=ids, built=built, due=due)

    def arrange(self, conn: psycopg.Connection, n: int) -> None:
        """Exactly the first `n` designated clocks due, the others as built, no scan's writes
        left (history and escalation rows), and the dead row versions vacuumed away."""
        sets = ", ".join(f"{c} = %({c})s" for c in SCHEDULE_COLUMNS)
        rows = [
            {"id": cid, **(self.due[cid] if i < n else self.built[cid])}
            for i, cid in enumerate(self.ids)
        ]
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(f"UPDATE sla_clocks SET {sets} WHERE id = %(id)s", rows)
            cur.execute("TRUNCATE sla_escalations, ticket_changes")
        conn.execute("VACUUM sla_clocks")
        due = conn.execute("SELECT count(*) FROM sla_clocks WHERE next_check_at <= %s", (NOW,))
        found = due.fetchone()
        if found is None or found[0] != n:
            raise RuntimeError(f"expected {n} clocks due, found {found}")


@contextmanager
def scan_app(database_url: str) -> Iterator[Flask]:
    """The app the scan runs in: TESTING, so events go to the in-memory recorder."""
    instance = tempfile.mkdtemp(prefix="helpdesk-bench-sla-")
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "HELPDESK_INSTANCE_PATH": instance,
            "HELPDESK_SCHEDULER": False,
        }
    )
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(instance, ignore_errors=True)


@dataclass
class ScanSample:
    seconds: float
    statements: int
    sql_seconds: float
    examined: int
    breached: int
    events: int
    gc_seconds: float
    full_collections: int


def one_scan(app: Flask, log: QueryLog) -> tuple[ScanSample, list[tuple[str, Any]]]:
    """Time one scan (the call, from its first statement to its commit), with the SQL it sent
    and the garbage collector's pauses inside it."""
    recorder = app.extensions["helpdesk_events"]
    recorder.clear()
    with log.attached(), GcPauses().attached() as pauses:
        started = time.perf_counter()
        result = scan(db.session, now=NOW, limit=SCAN_LIMIT)
        seconds = time.perf_counter() - started
        statements = list(log.statements)
    sample = ScanSample(
        seconds=seconds,
        statements=log.count,
        sql_seconds=log.sql_seconds,
        examined=result.examined,
        breached=result.breached,
        events=len(recorder.events),
        gc_seconds=sum(pauses.seconds),
        full_collections=pauses.counts[2],
    )
    db.session.remove()
    return sample, statements


def measure_scan(run: Run, opts: Options, server: str, sizes: datagen.Sizes) -> None:
    url = pg.libpq_url(server, SLA_DB)
    with (
        psycopg.connect(url, autocommit=True) as conn,
        scan_app(pg.sqlalchemy_url(server, SLA_DB)) as app,
        app.app_context(),
    ):
        clocks = DueClocks.read(conn, sizes)
        counts = [min(n, len(clocks.ids)) for n in DUE_COUNTS]
        log = QueryLog(db.engine, keep_statements=True)
        # Untimed: the first scan of a process builds the calendar (holidays) and compiles SQL.
        clocks.arrange(conn, counts[-1])
        one_scan(app, log)
        results: dict[str, Any] = {}
        captured: dict[int, list[tuple[str, Any]]] = {}
        for n in (*counts, 0):
            reps = opts.repeats if n else 3
            samples, captured[n] = _scans(app, conn, clocks, log, n, reps)
            results[str(n)] = _scan_summary(n, samples)
            tqdm.write(_describe_scan(str(n), results[str(n)]))
        # The same scans in a process whose start-up objects are out of the collector's reach,
        # as helpdesk/wsgi.py leaves the web process (gc.freeze() after start-up).
        gc.collect()
        gc.freeze()
        try:
            samples, _ = _scans(app, conn, clocks, log, counts[0], opts.repeats)
        finally:
            gc.unfreeze()
        results["frozen"] = _scan_summary(counts[0], samples)
        tqdm.write(_describe_scan(f"{counts[0]} (gc.freeze)", results["frozen"]))
        run.details["scan"] = results
        run.details["scan_plans"] = {}
        for n in counts:
            clocks.arrange(conn, n)
            run.details["scan_plans"][str(n)] = explain_scan(run, db.engine, n, captured[n])
        clocks.arrange(conn, 0)
    _scan_figures(run, results, counts)


def _scans(
    app: Flask, conn: psycopg.Connection, clocks: DueClocks, log: QueryLog, n: int, reps: int
) -> tuple[list[ScanSample], list[tuple[str, Any]]]:
    """`reps` scans, each with exactly `n` clocks due; returns them and the last one's SQL."""
    samples, statements = [], []
    for _ in tqdm(range(reps), desc=f"scan, {n:>5} due", unit="scan", leave=False):
        clocks.arrange(conn, n)
        sample, statements = one_scan(app, log)
        if sample.breached != n:
            tqdm.write(f"  scan recorded {sample.breached} breaches, expected {n}")
        samples.append(sample)
    return samples, statements


def _scan_summary(n: int, samples: list[ScanSample]) -> dict[str, Any]:
    summary = summarise([s.seconds for s in samples])
    sql = sorted(s.sql_seconds * 1000 for s in samples)
    return {
        "due": n,
        "summary": summary,
        "latency": summary.as_dict(),
        "runs_ms": [round(s.seconds * 1000, 1) for s in samples],
        "gc_ms": [round(s.gc_seconds * 1000, 1) for s in samples],
        "full_collections": [s.full_collections for s in samples],
        "sql_ms_p50": sql[len(sql) // 2],
        "statements": samples[-1].statements,
        "examined": samples[-1].examined,
        "breached": [s.breached for s in samples],
        "events": samples[-1].events,
    }


def _describe_scan(label: str, r: dict[str, Any]) -> str:
    s: Summary = r["summary"]
    return (
        f"scan with {label:>5} due: p50 {s.p50_ms:7.1f} ms  max {s.max_ms:7.1f} ms | SQL p50 "
        f"{r['sql_ms_p50']:.1f} ms over {r['statements']} statements; {r['events']} events\n"
        f"    runs {', '.join(f'{v:.0f}' for v in r['runs_ms'])} ms, of which in the garbage "
        f"collector {', '.join(f'{v:.0f}' for v in r['gc_ms'])} ms "
        f"(full collections: {sum(r['full_collections'])})"
    )


PLAN_NODES = re.compile(
    r"((?:Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)(?: Backward)?(?: using| on) \S+)"
)


def explain_scan(
    run: Run, engine: Any, n: int, statements: list[tuple[str, Any]]
) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement of a scan, on the same due clocks, each in a
    transaction rolled back afterwards (so the UPDATE and INSERTs change nothing)."""
    run.plans.append(
        f"\n{'=' * 100}\nscan with {n} due ({len(statements)} statements)\n{'=' * 100}"
    )
    out = []
    for statement, parameters in statements:
        head = statement.lstrip().split(None, 1)[0].upper()
        run.plans.append(f"\n-- {_shorten(statement)}\n-- parameters: {_shorten(repr(parameters))}")
        if head not in ("SELECT", "UPDATE", "INSERT"):
            continue
        text = "\n".join(explain(engine, statement, parameters))
        run.plans.append(text)
        ms = float(re.findall(r"Execution Time: ([\d.]+)", text)[0])
        nodes = list(dict.fromkeys(PLAN_NODES.findall(text)))
        out.append({"statement": _shorten(statement, 160), "execution_ms": ms, "nodes": nodes})
        tqdm.write(f"  {n:>5} due: {ms:7.2f} ms  {_shorten(statement, 60):<60} {'; '.join(nodes)}")
    run.details.setdefault("scan_select_plan", {})[str(n)] = _first_plan(run.plans, n)
    return out


def _first_plan(plans: list[str], n: int) -> str:
    """The plan of the scan's first SELECT (the clocks due) in the last section written."""
    start = max(i for i, p in enumerate(plans) if p.startswith(f"\n{'=' * 100}\nscan with {n} "))
    for i in range(start + 1, len(plans) - 1):
        if plans[i].startswith("\n-- SELECT") and "FROM sla_clocks" in plans[i]:
            return plans[i + 1]
    return ""


def _shorten(text: str, limit: int = 2_000) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _gc_note(result: dict[str, Any]) -> str:
    full = [ms for ms, k in zip(result["gc_ms"], result["full_collections"], strict=True) if k]
    if not full:
        return "no full garbage collection in any run"
    return (
        f"{len(full)} of {len(result['gc_ms'])} runs include a full garbage collection "
        f"({min(full):.0f}-{max(full):.0f} ms)"
    )


def _scan_figures(run: Run, results: dict[str, Any], counts: list[int]) -> None:
    big, small = (results[str(n)] for n in counts)
    big_s: Summary = big["summary"]
    small_s: Summary = small["summary"]
    run.add(
        Figure(
            f"breach scan, {counts[0]:,} clocks due of {big['examined']:,} examined "
            f"({len(big['runs_ms'])} runs)",
            f"<= {SCAN_TARGET_MS:.0f} ms",
            f"p50 {big_s.p50_ms:.0f} ms, max {big_s.max_ms:.0f} ms; {_gc_note(big)}",
            big_s.p50_ms <= SCAN_TARGET_MS,
            group=2,
        )
    )
    ratio = big_s.p50_ms / small_s.p50_ms if small_s.p50_ms else float("inf")
    run.add(
        Figure(
            f"breach scan, {counts[1]} clocks due ({len(small['runs_ms'])} runs)",
            f"clearly cheaper (<= 1/{CHEAPER_FACTOR:.0f} of the {counts[0]:,}-due scan)",
            f"p50 {small_s.p50_ms:.1f} ms, max {small_s.max_ms:.1f} ms ({ratio:.0f}x cheaper)",
            ratio >= CHEAPER_FACTOR,
            group=2,
        )
    )
    frozen: Summary = results["frozen"]["summary"]
    run.add(
        Figure(
            f"the {counts[0]:,}-due scan in a process frozen after start-up (`gc.freeze()`)",
            "-",
            f"p50 {frozen.p50_ms:.0f} ms, max {frozen.max_ms:.0f} ms",
            None,
            group=2,
        )
    )
    none: Summary = results["0"]["summary"]
    run.add(
        Figure(
            "breach scan, nothing due",
            "-",
            f"p50 {none.p50_ms:.1f} ms, max {none.max_ms:.1f} ms",
            None,
            group=2,
        )
    )


# -- the run ---------------------------------------------------------------------------------------


def data_summary(server: str) -> list[list[str]]:
    """Rows per table and clock state, for the record."""
    with psycopg.connect(pg.libpq_url(server, SLA_DB)) as conn:
        rows = [
            [t, f"{conn.execute(f'SELECT count(*) FROM {t}').fetchone()[0]:,}"]  # type: ignore[index]
            for t in ("customers", "users", "tickets", "sla_clocks")
        ]
        for state, metric, count, with_check in conn.execute(
            "SELECT state, metric, count(*), count(next_check_at) FROM sla_clocks "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            rows.append([f"  {metric} {state}", f"{count:,} ({with_check:,} with next_check_at)"])
        status = conn.execute("SELECT status, count(*) FROM tickets GROUP BY 1 ORDER BY 1")
        rows.append(["  tickets by status", ", ".join(f"{s} {c:,}" for s, c in status)])
    return rows


def run(opts: Options) -> Run:
    server = pg.server_url()
    result = Run(options=opts, machine=machine.describe(server))
    tqdm.write("SLA benchmark on " + machine.one_line(result.machine))
    started = time.perf_counter()
    measure_calendar(result, opts)
    sizes = datagen.Sizes.at(opts.scale)
    password = secrets.token_urlsafe(16)
    try:
        prepare(server, SLA_DB, opts.scale, password, opts.reuse, builder=sla_data.build)
        result.details["data"] = data_summary(server)
        tqdm.write("\n" + "\n".join(f"{a:<28} {b}" for a, b in result.details["data"]))
        tqdm.write(f"\n[2] breach scan, limit={SCAN_LIMIT}, now={NOW:%Y-%m-%d %H:%M} UTC")
        measure_scan(result, opts, server, sizes)
    finally:
        if not opts.keep:
            pg.drop_database(server, SLA_DB)
            tqdm.write(f"dropped {SLA_DB}")
    result.details["seconds"] = time.perf_counter() - started
    result.machine["load_average_at_end"] = machine.load_average()
    extra = ["", markdown_table(("table", "rows"), result.details["data"])]
    for n, plan in result.details.get("scan_select_plan", {}).items():
        extra += ["", f"Plan of the scan's SELECT with {n} due:", "", "```", plan, "```"]
    save(result, "sla", RESULTS, extra)
    return result
