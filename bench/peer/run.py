"""`python -m bench peer`: ours, the peer and the floor side by side, in alternated rounds.

Each figure is run as rounds in turn (ours, peer, floor, ours, peer, floor, ...) by the same load
generator, so that whatever else the shared machine is doing falls on all three alike; the report
gives each system's rate, latency and server CPU per request, and the ratios the issue's targets
are set on. Reads run first, while each system holds exactly the seeded tickets (the peer's list
grows with its table), then creates.
"""

from __future__ import annotations

import json
import secrets
import shlex
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests
from tqdm import tqdm

from bench import datagen, foundation, machine, pg
from bench.peer import figures, project, systems
from bench.peer.figures import CREATE, FETCH, FLOOR, LIST, OURS, PEER, Round
from bench.peer.loadgen import Request, burst, measured_round
from bench.peer.systems import tree_cpu
from bench.report import markdown_table, text_table
from bench.server import WebServer, process_cpu, procfile_command
from bench.shapes import pick, ticket_body

OURS_DB = "helpdesk_bench_peer_ours"
PEER_DB = "helpdesk_bench_peer_django"
FLOOR_DB = "helpdesk_bench_peer_floor"
RESULTS = Path(__file__).resolve().parent.parent / "results"
# Seconds for one request: the peer reads all 10,000 tickets to answer one, and on a loaded machine
# that takes tens of seconds (its gunicorn gets the same limit, in place of its default 30 s).
TIMEOUT = 300.0


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    rounds: int = 3
    clients: int = 4
    create_requests: int = 3_000
    create_seconds: float = 10.0
    read_requests: int = 2_000
    read_seconds: float = 8.0
    warmup: int = 20
    tickets: int = 10_000
    peer_venv: str = str(systems.DEFAULT_PEER_VENV)
    keep: bool = False

    @classmethod
    def quick(cls, **changes: Any) -> Options:
        """A smoke run: one short round of each figure on the smallest data."""
        values: dict[str, Any] = {
            "rounds": 1,
            "create_requests": 200,
            "create_seconds": 3.0,
            "read_requests": 100,
            "read_seconds": 3.0,
            "warmup": 4,
            "tickets": 1_000,
        }
        return cls(**(values | changes))


# Priorities as the peer numbers them (1 highest, 5 lowest).
PEER_PRIORITY = {"urgent": 1, "high": 2, "normal": 3, "low": 4}


def peer_body(body: dict[str, Any], queue_id: int) -> dict[str, Any]:
    """Our create body in the peer's terms: the same subject, text, priority and caller."""
    return {
        "queue": queue_id,
        "title": body["subject"],
        "description": body["description"],
        "submitter_email": f"caller{body['requester_id']}@example.com",
        "priority": PEER_PRIORITY[body["priority"]],
    }


@dataclass
class Target:
    """One system as the load generator sees it: its requests, headers, processes, database."""

    system: str
    database: str
    cpu: Callable[[], float]  # CPU seconds its server processes have used so far
    headers: dict[str, str]
    requests: dict[str, Request] = field(default_factory=dict)


def ours_target(
    web: WebServer,
    token: str,
    layout: datagen.Layout,
    ids: list[int],
    redis_server: systems.Served | None = None,
) -> Target:
    """Ours; its server CPU is the web process's and, when given, its Redis server's."""
    base = web.base_url

    def create(s: requests.Session, i: int) -> int:
        body = ticket_body(layout, i, offset=40_000_000)
        return s.post(f"{base}/api/v1/tickets", json=body, timeout=TIMEOUT).status_code

    def list_page(s: requests.Session, i: int) -> int:
        return s.get(f"{base}/api/v1/tickets", timeout=TIMEOUT).status_code

    def fetch(s: requests.Session, i: int) -> int:
        return s.get(f"{base}/api/v1/tickets/{pick(ids, i)}", timeout=TIMEOUT).status_code

    def cpu() -> float:
        used = tree_cpu(web.process.pid) if web.process else 0.0
        if redis_server is not None and redis_server.process is not None:
            used += process_cpu(redis_server.process.pid)
        return used

    return Target(
        OURS,
        OURS_DB,
        cpu,
        {"Authorization": f"Bearer {token}"},
        {CREATE: create, LIST: list_page, FETCH: fetch},
    )


def peer_target(
    peer: systems.Served, setup: systems.PeerSetup, layout: datagen.Layout, ids: list[int]
) -> Target:
    base = f"{peer.base_url}/api/tickets/"

    def create(s: requests.Session, i: int) -> int:
        body = peer_body(ticket_body(layout, i, offset=40_000_000), setup.queue_id)
        return s.post(base, json=body, timeout=TIMEOUT).status_code

    def list_page(s: requests.Session, i: int) -> int:
        return s.get(base, timeout=TIMEOUT).status_code

    def fetch(s: requests.Session, i: int) -> int:
        return s.get(f"{base}{pick(ids, i)}/", timeout=TIMEOUT).status_code

    return Target(
        PEER,
        PEER_DB,
        peer.cpu,
        {"Authorization": f"Token {setup.token}"},
        {CREATE: create, LIST: list_page, FETCH: fetch},
    )


def floor_target(floor: systems.Served, layout: datagen.Layout) -> Target:
    url = f"{floor.base_url}/api/v1/tickets"

    def create(s: requests.Session, i: int) -> int:
        body = ticket_body(layout, i, offset=40_000_000)
        return s.post(url, json=body, timeout=TIMEOUT).status_code

    return Target(FLOOR, FLOOR_DB, floor.cpu, {}, {CREATE: create})


# -- the rounds --------------------------------------------------------------------------------


def alternate(targets: Sequence[Target], opts: Options) -> list[Round]:
    """Every figure: a warm-up of each system, then `rounds` rounds taking turns."""
    rounds: list[Round] = []
    for figure in (LIST, FETCH, CREATE):
        create = figure == CREATE
        total = opts.create_requests if create else opts.read_requests
        seconds = opts.create_seconds if create else opts.read_seconds
        taking_part = [t for t in targets if figure in t.requests]
        tqdm.write(f"\n{figure}: {' / '.join(t.system for t in taking_part)}")
        for t in taking_part:
            burst(
                t.requests[figure],
                clients=opts.clients,
                total=opts.warmup,
                max_seconds=seconds,
                expect=201 if create else 200,
                headers=t.headers,
                start=9_000_000,
            )
        for k in range(opts.rounds):
            for t in taking_part:
                r = measured_round(
                    t.system,
                    figure,
                    t.requests[figure],
                    server_cpu=t.cpu,
                    database=t.database,
                    clients=opts.clients,
                    total=total,
                    max_seconds=seconds,
                    expect=201 if create else 200,
                    headers=t.headers,
                    start=k * 1_000_000,
                )
                rounds.append(r)
                tqdm.write(
                    f"  round {k + 1} {t.system:<5} {r.requests:>6} req in {r.seconds:5.1f} s "
                    f"= {r.per_second:8.1f}/s; server CPU {r.server_cpu_ms:7.2f} ms/req; "
                    f"errors {r.errors}"
                )
    return rounds


# -- setting the three up ----------------------------------------------------------------------


def ours_ids(server: str) -> list[int]:
    with psycopg.connect(pg.libpq_url(server, OURS_DB)) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM tickets ORDER BY id")]


def run(opts: Options) -> dict[str, Any]:
    """Install and seed the three, alternate the rounds, print and save the figures."""
    server = pg.server_url()
    info = machine.describe(server)
    tqdm.write("peer benchmark on " + machine.one_line(info))
    python = systems.peer_python(Path(opts.peer_venv).expanduser())
    info["peer_versions"] = systems.versions(python)
    started = time.perf_counter()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    RESULTS.mkdir(exist_ok=True)
    work = systems.temp_dir("helpdesk-bench-peer-")
    running: list[Any] = []
    password = secrets.token_urlsafe(16)
    try:
        scale = opts.tickets / 1_000_000
        layout = foundation.prepare(server, OURS_DB, scale, password, reuse=False)
        redis_server, redis_url = systems.start_redis(RESULTS / f"peer-{stamp}-redis.log")
        running.append(redis_server)
        web = WebServer(
            pg.sqlalchemy_url(server, OURS_DB),
            RESULTS / f"peer-{stamp}-ours.log",
            extra_env={"REDIS_URL": redis_url},
        )
        running.append(web)
        web.start()
        token = foundation.http_token(web, password)
        ours = ours_target(web, token, layout, ours_ids(server), redis_server)

        setup = systems.setup_peer(python, server, PEER_DB, work)
        peer_ids = systems.seed_peer(server, PEER_DB, setup, opts.tickets)
        tqdm.write(f"peer: {len(peer_ids):,} tickets seeded")
        peer = systems.start_peer(python, work, RESULTS / f"peer-{stamp}-peer.log")
        running.append(peer)

        floor = systems.start_floor(server, FLOOR_DB, work, RESULTS / f"peer-{stamp}-floor.log")
        running.append(floor)

        info["servers"] = {
            OURS: procfile_command(),
            PEER: shlex.join(peer.args),
            FLOOR: shlex.join(floor.args),
        }
        rounds = alternate(
            [ours, peer_target(peer, setup, layout, peer_ids), floor_target(floor, layout)],
            opts,
        )
    finally:
        for process in reversed(running):
            process.stop()
        shutil.rmtree(work, ignore_errors=True)
        if not opts.keep:
            for name in (OURS_DB, PEER_DB, FLOOR_DB):
                pg.drop_database(server, name)
    info["load_average_at_end"] = machine.load_average()
    info["seconds"] = time.perf_counter() - started
    return report(opts, info, rounds, RESULTS / f"peer-{stamp}")


def report(opts: Options, info: dict[str, Any], rounds: list[Round], base: Path) -> dict[str, Any]:
    """The tables on the terminal, and JSON plus Markdown beside the other results."""
    results = figures.combine(rounds)
    ratio_list = figures.ratios(rounds)
    rate_ok = figures.absolute_create(results)
    mine = results.get((CREATE, OURS))
    absolute = (
        f"ours creates {mine.per_second:.0f}/s against the target of "
        f">= {figures.CREATE_RATE_ABSOLUTE:.0f}/s: {'met' if rate_ok else 'NOT met'}"
        if mine
        else ""
    )
    tables = [
        (figures.RESULT_HEADERS, figures.result_rows(results)),
        (figures.RATIO_HEADERS, figures.ratio_rows(ratio_list)),
    ]
    for headers, rows in tables:
        tqdm.write("\n" + text_table(headers, rows))
    tqdm.write(absolute)
    lines = [
        machine.one_line(info),
        f"load average at the end: {info['load_average_at_end']}",
        f"peer: {json.dumps(info['peer_versions'])}",
        "",
        *(markdown_table(h, r) + "\n" for h, r in tables),
        absolute,
    ]
    payload = {
        "options": asdict(opts),
        "machine": info,
        "rounds": [asdict(r) | {"latencies": len(r.latencies)} for r in rounds],
        "ratios": [asdict(r) for r in ratio_list],
    }
    base.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=str))
    base.with_suffix(".md").write_text("\n".join(lines) + "\n")
    tqdm.write(f"\nresults in {base}.json and {base}.md ({info['seconds'] / 60:.1f} min)")
    return payload


__all__ = ["Options", "project", "run"]
