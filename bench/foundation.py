"""Foundation benchmark: tickets, customers and the REST API on a million tickets.

Figures, each against the target the foundation issue set:

1. tickets created per second through `POST /api/v1/tickets` on the Procfile's web process;
2. the first page of filtered ticket lists, with the number of SQL statements per request shown
   not to grow with the page size or the data (no N+1);
3. a customer looked up by phone number: the service call, the request in-process, and over HTTP;
4. a page of the timeline of a customer with 20,000 entries, first and deep (by cursor).

Reads are measured in-process with Flask's test client (the application and the database, no
network); writes through the real web server with concurrent clients. Every query shape is also
run once under EXPLAIN (ANALYZE, BUFFERS); the plans go to `bench/results/`.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import requests
from tqdm import tqdm

from bench import datagen, machine, pg
from bench.inprocess import ApiClient, QueryLog, application, engine_of
from bench.load import LoadResult, post_load
from bench.measure import (
    LOOKUP_TARGET_MS,
    POST_TARGET_RPS,
    Options,
    count_table,
    explain_shapes,
    latency_figure,
    measure_lists,
    measure_lookup,
    measure_post_inprocess,
    measure_timeline,
    print_counts,
    statement_counts,
)
from bench.report import FIGURE_HEADERS, Figure, Run, figure_rows, markdown_table, text_table
from bench.server import CpuSample, WebServer
from bench.shapes import Params, other_url, ticket_body
from bench.stats import time_calls
from helpdesk.migrate import upgrade

FULL_DB = "helpdesk_bench"
SMALL_DB = "helpdesk_bench_small"
SMALL_SCALE = 0.001
RESULTS = Path(__file__).resolve().parent / "results"


# -- databases ---------------------------------------------------------------------------------


def prepare(
    server: str,
    name: str,
    scale: float,
    password: str,
    reuse: bool,
    builder: Callable[[str, datagen.Sizes, str], datagen.Layout] = datagen.build,
) -> datagen.Layout:
    """A migrated database filled at `scale` by `builder` (or a kept one built the same way,
    with `reuse`)."""
    sizes = datagen.Sizes.at(scale)
    identity: dict[str, Any] = {"scale": scale, "seed": datagen.SEED}
    if builder is not datagen.build:
        identity["data"] = builder.__module__
    marker = json.dumps(identity)
    layout = datagen.Layout.of(sizes)
    if reuse and pg.database_exists(server, name) and _marker(server, name) == marker:
        tqdm.write(f"reusing database {name} ({marker})")
        _set_password(pg.libpq_url(server, name), password)
        return layout
    tqdm.write(f"building database {name}: {sizes}")
    pg.create_database(server, name)
    upgrade(pg.sqlalchemy_url(server, name))
    started = time.perf_counter()
    builder(pg.libpq_url(server, name), sizes, password)
    tqdm.write(f"built {name} in {time.perf_counter() - started:.0f} s")
    with pg.admin(server) as conn:
        conn.execute(f"COMMENT ON DATABASE {name} IS '{marker}'")
    return layout


def _marker(server: str, name: str) -> str | None:
    with pg.admin(server) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    return row[0] if row else None


def _set_password(url: str, password: str) -> None:
    from werkzeug.security import generate_password_hash

    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE users SET password_hash = %s WHERE email = %s",
            (generate_password_hash(password), datagen.API_USER_EMAIL),
        )


# -- through the web server ------------------------------------------------------------------


def measure_post_load(run: Run, web: WebServer, token: str, layout: datagen.Layout) -> None:
    """Figure 1: tickets created per second by concurrent clients, and the CPU each one cost."""
    opts = run.options
    tqdm.write(
        f"\n[1] POST /api/v1/tickets through the Procfile web process, "
        f"{opts.concurrency} client connections"
    )
    url = web.base_url + "/api/v1/tickets"
    warm_up = partial(ticket_body, layout, offset=20_000_000)
    post_load(
        url, token, warm_up, expect=201, concurrency=opts.concurrency, total=200, max_seconds=20
    )
    before = CpuSample.take(web.pids(), FULL_DB)
    result = post_load(
        url,
        token,
        partial(ticket_body, layout),
        expect=201,
        concurrency=opts.concurrency,
        total=opts.post_requests,
        max_seconds=opts.post_seconds,
    )
    cpu = CpuSample.take(web.pids(), FULL_DB).used_since(before)
    per_request = {
        k: v / max(result.requests, 1) * 1000 for k, v in cpu.items() if k != "machine_total_s"
    }
    busy = cpu["machine_busy_s"] / cpu["machine_total_s"] if cpu["machine_total_s"] else 0.0
    tqdm.write(
        f"{result.requests} requests in {result.seconds:.1f} s = "
        f"{result.per_second:.0f}/s; {result.latency.brief()}; errors {result.errors}"
    )
    tqdm.write(
        "CPU ms per request: "
        + ", ".join(f"{k[:-2]} {v:.2f}" for k, v in per_request.items())
        + f"; machine busy {busy:.0%}"
    )
    run.details["post_load"] = result.as_dict() | {
        "concurrency": opts.concurrency,
        "cpu_ms_per_request": per_request,
        "machine_utilisation": busy,
    }
    post_load_figures(run, result)


def post_load_figures(run: Run, result: LoadResult) -> None:
    lat = result.latency
    name = f"POST /api/v1/tickets, gunicorn, {run.options.concurrency} connections"
    run.add(
        Figure(
            f"{name}: tickets created per second",
            f">= {POST_TARGET_RPS:.0f}/s",
            f"{result.per_second:.0f}/s",
            result.per_second >= POST_TARGET_RPS,
            group=1,
        )
    )
    run.add(
        Figure(
            f"{name}: latency p50 / p95 / p99; errors",
            "no errors",
            f"{lat.p50_ms:.0f} / {lat.p95_ms:.0f} / {lat.p99_ms:.0f} ms; {result.errors} errors "
            f"of {result.requests}",
            result.errors == 0,
            group=1,
        )
    )


def measure_lookup_http(run: Run, web: WebServer, token: str, params: Params) -> None:
    """Figure 3 over a real connection: what a client of the API waits for a lookup."""
    tqdm.write("\n[3b] GET /api/v1/customers/lookup over HTTP (one keep-alive connection)")
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"

        def call(i: int) -> None:
            url = web.base_url + other_url("customers/lookup?number=", params, i)
            session.get(url, timeout=10).raise_for_status()

        summary = time_calls(call, samples=run.options.samples, warmup=run.options.warmup)
    tqdm.write(f"{'GET lookup over HTTP':<36} {summary.brief()}")
    run.details["lookup"]["GET lookup over HTTP"] = {"latency": summary.as_dict()}
    figure = latency_figure(
        "customer lookup by phone, HTTP via gunicorn (loopback)", summary, LOOKUP_TARGET_MS
    )
    run.add(replace(figure, group=3))


def http_token(web: WebServer, password: str) -> str:
    response = requests.post(
        web.base_url + "/api/v1/auth/token",
        timeout=30,
        json={"email": datagen.API_USER_EMAIL, "password": password},
    )
    response.raise_for_status()
    return str(response.json()["token"])


# -- the run -----------------------------------------------------------------------------------


@contextmanager
def databases(server: str, opts: Options, password: str) -> Iterator[tuple[datagen.Layout, ...]]:
    """The full and the small database, dropped on the way out unless asked to keep them."""
    try:
        full = prepare(server, FULL_DB, opts.scale, password, opts.reuse)
        small = prepare(server, SMALL_DB, SMALL_SCALE, password, opts.reuse)
        yield full, small
    finally:
        if not opts.keep:
            for name in (FULL_DB, SMALL_DB):
                pg.drop_database(server, name)
            tqdm.write(f"dropped {FULL_DB} and {SMALL_DB}")


def run(opts: Options) -> Run:
    """Build the data, measure everything, print the figures and write them to bench/results/."""
    server = pg.server_url()
    result = Run(options=opts, machine=machine.describe(server))
    tqdm.write("foundation benchmark on " + machine.one_line(result.machine))
    started = time.perf_counter()
    password = secrets.token_urlsafe(16)
    with databases(server, opts, password) as (full, small):
        counts = {}
        for label, name, layout in (("small", SMALL_DB, small), ("full", FULL_DB, full)):
            url = pg.sqlalchemy_url(server, name)
            params = Params.read(pg.libpq_url(server, name), layout)
            with application(url) as app:
                api = ApiClient.login(app, password)
                log = QueryLog(engine_of(app))
                counts[label] = statement_counts(api, log, params)
                if label == "full":
                    measure_full(result, app, api, log, params, layout)
        result.details["statement_counts"] = counts
        result.details["layout"] = full.as_dict()
        print_counts(counts)
        measure_server(
            result, server, password, full, Params.read(pg.libpq_url(server, FULL_DB), full)
        )
    result.details["seconds"] = time.perf_counter() - started
    result.machine["load_average_at_end"] = machine.load_average()
    save(result)
    return result


def measure_full(
    run: Run, app: Any, api: ApiClient, log: QueryLog, params: Params, layout: datagen.Layout
) -> None:
    """Everything measured in-process on the full database."""
    measure_lists(run, api, log, params)
    measure_lookup(run, app, api, log, params)
    measure_timeline(run, api, log, params)
    measure_post_inprocess(run, api, log, layout)
    explain_shapes(run, api, app, params, ticket_body(layout, 0, offset=30_000_000))


def measure_server(
    run: Run, server: str, password: str, layout: datagen.Layout, params: Params
) -> None:
    """Everything measured through the Procfile's web process."""
    RESULTS.mkdir(exist_ok=True)
    web = WebServer(pg.sqlalchemy_url(server, FULL_DB), RESULTS / f"{stamp(run)}-web.log")
    try:
        web.start()
        token = http_token(web, password)
        measure_lookup_http(run, web, token, params)
        measure_post_load(run, web, token, layout)
    finally:
        web.stop()


def stamp(run: Run) -> str:
    """The results' file names: the benchmark and the second it started."""
    return f"foundation-{run.started:%Y%m%dT%H%M%SZ}"


def save(run: Run) -> None:
    """JSON with every figure, the plans as text, and a Markdown summary ready for the record."""
    RESULTS.mkdir(exist_ok=True)
    base = RESULTS / stamp(run)
    payload = {
        "options": asdict(run.options),
        "machine": run.machine,
        "figures": [f.as_dict() for f in run.figures],
        "details": run.details,
    }
    base.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=str))
    Path(f"{base}-plans.txt").write_text("\n".join(run.plans) + "\n")
    figures = sorted(run.figures, key=lambda f: f.group)
    summary = [
        machine.one_line(run.machine),
        f"load average at the end: {run.machine['load_average_at_end']}",
        "",
        markdown_table(FIGURE_HEADERS, figure_rows(figures)),
        "",
        markdown_table(*count_table(run.details["statement_counts"])),
    ]
    base.with_suffix(".md").write_text("\n".join(summary) + "\n")
    tqdm.write("\n" + text_table(FIGURE_HEADERS, figure_rows(figures)))
    tqdm.write(
        f"\nresults in {base}.json, {base}.md, {base}-plans.txt "
        f"(run took {run.details['seconds'] / 60:.1f} min)"
    )
