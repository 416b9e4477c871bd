"""In-process measurements: latency percentiles, SQL statements per request, query plans.

Reads (and one-at-a-time creates) go through Flask's test client against the full database; the
SQL listener of `bench.inprocess` counts statements and the time spent in them, so each figure
says how much of a request is the database and how much is Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from tqdm import tqdm

from bench import datagen
from bench.inprocess import ApiClient, QueryLog, engine_of, explain
from bench.report import Figure, Run, text_table
from bench.shapes import (
    DEFAULT_LIMIT,
    LIST_SHAPES,
    OTHER_SHAPES,
    Params,
    list_url,
    other_url,
    pick,
    ticket_body,
)
from bench.stats import Summary, time_calls
from helpdesk.customers.service import lookup_by_phone
from helpdesk.extensions import db

# The foundation issue's targets.
POST_TARGET_RPS = 500.0
LIST_TARGET_MS = 30.0
LOOKUP_TARGET_MS = 5.0
TIMELINE_TARGET_MS = 30.0


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    scale: float = 1.0
    samples: int = 400
    warmup: int = 40
    concurrency: int = 16
    post_requests: int = 6_000
    post_seconds: float = 30.0
    keep: bool = False
    reuse: bool = False


# -- statement counts --------------------------------------------------------------------------


def count_statements(api: ApiClient, log: QueryLog, url: str) -> tuple[int, int]:
    """(statements, items) for one request; the minimum of three, because the token's last-use
    stamp is written at most once a minute and adds two statements to whichever request does it."""
    counts, items = [], 0
    for _ in range(3):
        with log.attached():
            body = api.get(url)
        counts.append(log.count)
        items = len(body.get("items", []))
    return min(counts), items


def statement_counts(api: ApiClient, log: QueryLog, params: Params) -> dict[str, dict[str, Any]]:
    """For each shape, statements per request at limit 10 and 100 (with the rows returned)."""
    out: dict[str, dict[str, Any]] = {}
    for shape in LIST_SHAPES:
        out[shape] = {
            str(n): count_statements(api, log, list_url(shape, params, 0, n)) for n in (10, 100)
        }
    for shape in OTHER_SHAPES:
        limits = (None,) if "lookup" in shape else (10, 100)
        out[shape] = {
            str(n or "-"): count_statements(api, log, other_url(shape, params, 0, n))
            for n in limits
        }
    return out


# -- in-process timings ------------------------------------------------------------------------


def time_get(
    api: ApiClient, log: QueryLog, url_for: Callable[[int], str], opts: Options
) -> dict[str, Any]:
    return time_with_sql(lambda i: api.get(url_for(i)), log, opts, opts.samples)


def time_with_sql(
    call: Callable[[int], object], log: QueryLog, opts: Options, samples: int
) -> dict[str, Any]:
    """Percentiles of `call`, with the statements and SQL time it averaged per call."""
    with log.attached():
        summary = time_calls(call, samples=samples, warmup=opts.warmup)
        calls = samples + opts.warmup
        return {
            "summary": summary,
            "latency": summary.as_dict(),
            "statements": log.count / calls,
            "sql_ms": log.sql_seconds / calls * 1000,
        }


def describe(name: str, result: dict[str, Any]) -> str:
    summary: Summary = result["summary"]
    return (
        f"{name:<36} {summary.brief()}  | SQL {result['sql_ms']:.2f} ms over "
        f"{result['statements']:.1f} statements"
    )


def latency_figure(name: str, summary: Summary, target_ms: float | None) -> Figure:
    """A p95 figure; the p50 is shown too, as p95 on a shared machine carries its noise."""
    return Figure(
        name,
        f"p95 <= {target_ms:.0f} ms" if target_ms is not None else "-",
        f"p95 {summary.p95_ms:.1f} ms (p50 {summary.p50_ms:.1f})",
        None if target_ms is None else summary.p95_ms <= target_ms,
    )


def measure_lists(run: Run, api: ApiClient, log: QueryLog, params: Params) -> None:
    tqdm.write("\n[2] ticket lists, first page, in-process")
    results: dict[str, Any] = {}
    for limit in (DEFAULT_LIMIT, 100):
        for shape in LIST_SHAPES:
            name = f"{shape} limit={limit}"
            url_for = partial(list_url, shape, params, limit=limit)
            results[name] = time_get(api, log, url_for, run.options)
            tqdm.write(describe(name, results[name]))
            summary = results[name]["summary"]
            figure = latency_figure(f"tickets `{shape}`, limit={limit}", summary, LIST_TARGET_MS)
            run.add(replace(figure, group=2))
    run.details["lists"] = _strip(results)


def measure_lookup(run: Run, app: Any, api: ApiClient, log: QueryLog, params: Params) -> None:
    tqdm.write("\n[3] customer lookup by phone number")

    def service_call(i: int) -> None:
        with app.app_context():
            lookup_by_phone(db.session, pick(params.numbers, i), region="FR")
            db.session.remove()

    results = {
        "lookup_by_phone() service call": time_with_sql(
            service_call, log, run.options, run.options.samples
        ),
        "GET lookup, in-process": time_get(
            api, log, partial(other_url, "customers/lookup?number=", params), run.options
        ),
    }
    for name, result in results.items():
        tqdm.write(describe(name, result))
    run.details["lookup"] = _strip(results)
    for name, target in (
        ("GET lookup, in-process", LOOKUP_TARGET_MS),
        ("lookup_by_phone() service call", None),
    ):
        figure = latency_figure(
            f"customer lookup by phone: {name}", results[name]["summary"], target
        )
        run.add(replace(figure, group=3))


def measure_timeline(run: Run, api: ApiClient, log: QueryLog, params: Params) -> None:
    tqdm.write(f"\n[4] timeline of customer {params.heavy_customer}, in-process")
    results = {}
    for shape in ("timeline, first page", "timeline, deep page"):
        results[shape] = time_get(api, log, partial(other_url, shape, params), run.options)
        tqdm.write(describe(shape, results[shape]))
        where = "" if "first" in shape else f" (from entry {params.deep_position:,})"
        name = f"{shape}{where}, 50 entries"
        figure = latency_figure(name, results[shape]["summary"], TIMELINE_TARGET_MS)
        run.add(replace(figure, group=4))
    run.details["timeline"] = _strip(results)


def _strip(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The JSON-friendly part of timing results (the Summary objects are there as dicts too)."""
    return {k: {kk: vv for kk, vv in v.items() if kk != "summary"} for k, v in results.items()}


# -- plans -------------------------------------------------------------------------------------

PLAN_NODES = re.compile(
    r"((?:Parallel )?(?:Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)"
    r"(?: Backward)?(?: using| on) \S+)"
)


def explain_shapes(
    run: Run, api: ApiClient, app: Any, params: Params, body: dict[str, Any]
) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) every SELECT of one request of each shape."""
    tqdm.write("\nquery plans: EXPLAIN ANALYZE of every SELECT of one request of each shape")
    engine = engine_of(app)
    log = QueryLog(engine, keep_statements=True)
    requests_: dict[str, Callable[[], object]] = {}
    for limit in (DEFAULT_LIMIT, 100):
        for shape in LIST_SHAPES:
            url = list_url(shape, params, 0, limit=limit)
            requests_[f"GET {url}"] = partial(api.get, url)
    for shape in OTHER_SHAPES:
        url = other_url(shape, params, 0)
        requests_[f"GET {url}"] = partial(api.get, url)
    requests_["POST /api/v1/tickets"] = partial(api.post, "/api/v1/tickets", body)
    summary: dict[str, Any] = {}
    for label, call in requests_.items():
        if label.startswith("GET"):
            call()  # so the token's last-use stamp, if due, is not in the captured request
        with log.attached():
            call()
        summary[label] = _explain_request(run, engine, label, log.statements)
    run.details["plans"] = summary


def _explain_request(
    run: Run, engine: Any, label: str, statements: list[tuple[str, Any]]
) -> dict[str, Any]:
    run.plans.append(f"\n{'=' * 100}\n{label}  ({len(statements)} statements)\n{'=' * 100}")
    total_ms, nodes, removed = 0.0, [], 0
    for statement, parameters in statements:
        run.plans.append(f"\n-- {statement}\n-- parameters: {parameters!r}")
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        text = "\n".join(explain(engine, statement, parameters))
        run.plans.append(text)
        total_ms += float(re.findall(r"Execution Time: ([\d.]+)", text)[0])
        nodes += PLAN_NODES.findall(text)
        removed += sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", text))
    tqdm.write(
        f"  {label[:70]:<70} {total_ms:6.2f} ms, {removed} rows filtered out; "
        + "; ".join(n for n in dict.fromkeys(nodes) if "api_tokens" not in n)
    )
    return {
        "statements": len(statements),
        "execution_ms": total_ms,
        "rows_removed_by_filter": removed,
        "nodes": list(dict.fromkeys(nodes)),
    }


def measure_post_inprocess(run: Run, api: ApiClient, log: QueryLog, layout: datagen.Layout) -> None:
    """One request at a time in-process: what a create costs with no concurrency and no HTTP."""
    tqdm.write("\n[1a] POST /api/v1/tickets, in-process, one at a time")
    offset = 10_000_000  # bodies distinct from the load test's

    def create(i: int) -> None:
        api.post("/api/v1/tickets", ticket_body(layout, i, offset))

    result = time_with_sql(create, log, run.options, min(run.options.samples, 300))
    tqdm.write(describe("POST /tickets, in-process", result))
    run.details["post_inprocess"] = _strip({"r": result})["r"]
    figure = latency_figure(
        f"POST /api/v1/tickets in-process, one at a time ({result['statements']:.0f} statements)",
        result["summary"],
        None,
    )
    run.add(replace(figure, group=1))


def print_counts(counts: dict[str, dict[str, dict[str, Any]]]) -> None:
    tqdm.write("\nSQL statements per request (rows returned), small vs full data, limit 10 vs 100")
    tqdm.write(text_table(*count_table(counts)))


def count_table(counts: dict[str, dict[str, dict[str, Any]]]) -> tuple[list[str], list[list[str]]]:
    headers = [
        "request",
        "small, limit 10",
        "small, limit 100",
        "full, limit 10",
        "full, limit 100",
    ]
    rows = []
    for shape in counts["full"]:
        cells = [shape]
        for label in ("small", "full"):
            values = list(counts[label][shape].values())
            values += [values[-1]] * (2 - len(values))  # lookups take no limit
            cells += [f"{n} ({items} rows)" for n, items in values]
        rows.append(cells)
    return headers, rows
