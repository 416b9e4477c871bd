"""`python -m bench peer --profile`: where our ticket create spends its CPU under the same load.

Ours alone, served by the Procfile's line with the hooks of `bench.peer.profile_hooks` loaded
through `GUNICORN_CMD_ARGS`, driven by the same 4 clients; the worker's merged profile is printed
by function and summed by library, with the SQL statements per request. Profiling slows every
Python call, so its shares matter, not its rates.
"""

from __future__ import annotations

import io
import json
import pstats
import re
import secrets
import time
from pathlib import Path

from tqdm import tqdm

from bench import foundation, pg
from bench.peer import systems
from bench.peer.figures import CREATE, OURS
from bench.peer.loadgen import burst
from bench.peer.run import RESULTS, ours_target
from bench.server import WebServer

PROFILE_DB = "helpdesk_bench_peer_profile"

# Where a function's own time is counted: the first pattern its file name matches.
LIBRARIES = (
    ("SQLAlchemy", r"/sqlalchemy/"),
    ("psycopg", r"/psycopg"),
    ("Flask, Werkzeug", r"/(flask|werkzeug|flask_\w+)/"),
    ("Redis client", r"/redis/"),
    ("Celery, kombu", r"/(celery|kombu|vine|billiard)/"),
    ("pydantic", r"/pydantic"),
    ("our code (helpdesk, telephony, kb)", r"/(helpdesk|telephony|kb|agents_ui)/"),
    ("Python's library", r"/lib/python3\.\d+/(?!site-packages)"),
    ("built-in functions (C)", r"^~$"),
)


def library_of(filename: str) -> str:
    for name, pattern in LIBRARIES:
        if re.search(pattern, filename):
            return name
    return "other packages"


def by_library(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own (not cumulative) time summed by library, largest first."""
    totals: dict[str, float] = {}
    for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        totals[library_of(filename)] = totals.get(library_of(filename), 0.0) + row[2]
    return sorted(totals.items(), key=lambda kv: -kv[1])


def run_profile(tickets: int, requests_n: int, clients: int) -> str:
    server = pg.server_url()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    RESULTS.mkdir(exist_ok=True)
    base = RESULTS / f"peer-profile-{stamp}"
    password = secrets.token_urlsafe(16)
    layout = foundation.prepare(server, PROFILE_DB, tickets / 1_000_000, password, reuse=False)
    redis_server, redis_url = systems.start_redis(Path(f"{base}-redis.log"))
    web = WebServer(
        pg.sqlalchemy_url(server, PROFILE_DB),
        Path(f"{base}-ours.log"),
        extra_env={
            "REDIS_URL": redis_url,
            "GUNICORN_CMD_ARGS": "--config python:bench.peer.profile_hooks",
            "BENCH_PROFILE_OUT": str(base),
        },
    )
    try:
        web.start()
        target = ours_target(web, foundation.http_token(web, password), layout, [])
        n, errors, seconds, _ = burst(
            target.requests[CREATE],
            clients=clients,
            total=requests_n,
            max_seconds=120,
            expect=201,
            headers=target.headers,
        )
        tqdm.write(f"profiled {OURS} {CREATE}: {n} requests in {seconds:.1f} s, {errors} errors")
    finally:
        web.stop()
        redis_server.stop()
        pg.drop_database(server, PROFILE_DB)
    return summarise(base)


def summarise(base: Path) -> str:
    profiles = sorted(base.parent.glob(f"{base.name}.*.prof"))
    counts = [json.loads(p.read_text()) for p in base.parent.glob(f"{base.name}.*.json")]
    if not profiles:
        raise RuntimeError(f"no profile written; see {base}-ours.log")
    stats = pstats.Stats(str(profiles[0]))
    for extra in profiles[1:]:
        stats.add(str(extra))
    requests_n = sum(c["requests"] for c in counts)
    statements = sum(c["statements"] for c in counts)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    out = io.StringIO()
    out.write(
        f"{requests_n} requests profiled (the token request and the warm-up included): "
        f"{statements / max(requests_n, 1):.2f} SQL statements per request, "
        f"{total / max(requests_n, 1) * 1000:.2f} ms of profiled thread CPU per request\n\n"
        "own time by library:\n"
    )
    for name, seconds in by_library(stats):
        out.write(f"  {name:<40} {seconds / total:6.1%}\n")
    out.write("\nSQL statements per request, by their beginning:\n")
    shapes: dict[str, int] = {}
    for c in counts:
        for shape, n in c.get("by_statement", {}).items():
            shapes[shape] = shapes.get(shape, 0) + n
    for shape, n in sorted(shapes.items(), key=lambda kv: -kv[1]):
        out.write(f"  {n / max(requests_n, 1):5.2f}  {shape}\n")
    stats.stream = out  # type: ignore[attr-defined]
    out.write("\nby own time:\n")
    stats.sort_stats("tottime").print_stats(25)
    out.write("\nby cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(40)
    text = out.getvalue()
    Path(f"{base}.txt").write_text(text)
    tqdm.write(text[:6000])
    tqdm.write(f"profile in {base}.txt")
    return text
