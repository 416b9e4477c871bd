"""What the ticket path costs the application: CPU, SQL statements and Redis round trips of a
ticket create, a change and an internal note through `/api/v1`, in process.

The side-by-side benchmark (`bench/peer`) measures the create through the Procfile's server line
against the peer and a floor, where the machine's load moves the figures from one minute to the
next. This one calls the same endpoints through Flask's test client on PostgreSQL, with Redis as
the scaled-out deployment has it (events through the Socket.IO queue, caches listening), and
counts per request the thread's CPU time, the statements sent and the Redis round trips. The
counts do not depend on the machine's speed: two versions of the code compare on them fairly when
run one after the other (`PYTHONPATH` set to each tree).

The bodies are those of the side-by-side benchmark: a random caller of the generated data, half of
the tickets assigned, some tagged; a change sets the priority, moves the ticket to open and renames
it; a note is an agent's internal note. Loopback only, bounded in count; the database and the Redis
keys are the benchmark's own.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from tqdm import tqdm

from bench import datagen, foundation, machine, pg
from bench.callcost import Counters, Meter
from bench.foundation import RESULTS
from bench.inprocess import application, engine_of
from bench.report import Figure, Run, save
from bench.screenpop import redis_url
from bench.shapes import ticket_body

DB = os.environ.get("BENCH_TICKETPATH_DB", "helpdesk_bench_ticketpath")
PASSWORD = "bench password 1234"
STEPS = ("create", "update", "note")


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    requests: int = 400
    warmup: int = 30
    scale: float = 0.001  # of the foundation's million tickets
    keep: bool = False


def run(opts: Options) -> Run:
    server = pg.server_url()
    rurl = redis_url()
    redis.Redis.from_url(rurl).flushdb()
    current = Run(options=opts, machine=machine.describe(server))
    layout = foundation.prepare(server, DB, opts.scale, PASSWORD, reuse=opts.keep)
    try:
        with application(pg.sqlalchemy_url(server, DB), {"REDIS_URL": rurl}) as app:
            meter = _measure(app, layout, opts)
        for step in STEPS:
            t = meter.tallies[step]
            current.add(
                Figure(
                    f"{step}: CPU / statements / Redis round trips per request",
                    "-",
                    f"{t.cpu_s / t.runs * 1000:.2f} ms / {t.statements / t.runs:.2f}"
                    f" / {t.round_trips / t.runs:.2f}",
                    None,
                )
            )
            current.details[step] = {
                "runs": t.runs,
                "cpu_ms": t.cpu_s / t.runs * 1000,
                "statements": t.statements / t.runs,
                "round_trips": t.round_trips / t.runs,
            }
    finally:
        redis.Redis.from_url(rurl).flushdb()
        if not opts.keep:
            pg.drop_database(server, DB)
    save(current, "ticketpath", RESULTS)
    return current


def _measure(app: Any, layout: datagen.Layout, opts: Options) -> Meter:
    client = app.test_client()
    answer = client.post(
        "/api/v1/auth/token", json={"email": datagen.API_USER_EMAIL, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    ids: list[int] = []
    offset = int(time.time())

    def create(i: int) -> None:
        r = client.post("/api/v1/tickets", json=ticket_body(layout, i, offset), headers=headers)
        _expect(r, 201, "create")
        ids.append(r.get_json()["id"])

    def change(i: int) -> None:
        rng = random.Random(i)
        body = {"priority": rng.choice(("low", "normal", "high")), "status": "open"}
        r = client.patch(
            f"/api/v1/tickets/{ids[i % len(ids)]}",
            json={**body, "subject": f"Call back {i}"},
            headers=headers,
        )
        _expect(r, 200, "update")

    def note(i: int) -> None:
        r = client.post(
            f"/api/v1/tickets/{ids[i % len(ids)]}/comments",
            json={"body": f"Rang the customer back ({i})", "public": False},
            headers=headers,
        )
        _expect(r, 201, "note")

    counters = Counters()
    remove = counters.install(engine_of(app))
    meter = Meter(counters)
    steps: dict[str, Callable[[int], None]] = {"create": create, "update": change, "note": note}
    try:
        for step, fn in steps.items():
            for i in range(opts.warmup):
                meter(step, False, fn, i)
            for i in tqdm(range(opts.requests), desc=step, unit="req", leave=False):
                meter(step, True, fn, opts.warmup + i)
    finally:
        remove()
    return meter


def _expect(response: Any, status: int, what: str) -> None:
    if response.status_code != status:
        raise SystemExit(f"{what}: {response.status_code} {response.get_data(as_text=True)[:300]}")
