"""The one load generator of the side-by-side run: N client threads, one keep-alive connection
each, firing back to back until a request count or a time limit, whichever comes first.

The same code drives the three systems, so a difference between them is the server's. The CPU of
the server's processes (arbiter and workers, from /proc) and of the PostgreSQL backends of its
database is read just before and just after the burst.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import requests

from bench.peer.figures import Round
from bench.server import CpuSample

# One request: the session to send it on and its index; answers the HTTP status.
Request = Callable[[requests.Session, int], int]


def burst(
    request: Request,
    *,
    clients: int,
    total: int,
    max_seconds: float,
    expect: int,
    headers: dict[str, str],
    start: int = 0,
) -> tuple[int, int, float, list[float]]:
    """(requests, errors, seconds, latencies of the good ones) of one closed-loop burst."""
    counter = itertools.count(start)
    stop_at = start + total
    deadline = time.monotonic() + max_seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients

    def client(k: int) -> None:
        with requests.Session() as session:
            session.headers.update(headers)
            while time.monotonic() < deadline:
                i = next(counter)
                if i >= stop_at:
                    return
                began = time.perf_counter()
                try:
                    status = request(session, i)
                except requests.RequestException:
                    status = 0
                if status == expect:
                    latencies[k].append(time.perf_counter() - began)
                else:
                    errors[k] += 1

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    good = [x for per_client in latencies for x in per_client]
    return len(good) + sum(errors), sum(errors), seconds, good


def measured_round(
    system: str,
    figure: str,
    request: Request,
    *,
    server_cpu: Callable[[], float],
    database: str,
    clients: int,
    total: int,
    max_seconds: float,
    expect: int,
    headers: dict[str, str],
    start: int = 0,
) -> Round:
    """One burst with the CPU its server and its database backends spent during it."""
    before = CpuSample.take([], database)
    server_before = server_cpu()
    n, errors, seconds, latencies = burst(
        request,
        clients=clients,
        total=total,
        max_seconds=max_seconds,
        expect=expect,
        headers=headers,
        start=start,
    )
    server_used = server_cpu() - server_before
    used = CpuSample.take([], database).used_since(before)
    return Round(
        system=system,
        figure=figure,
        requests=n,
        errors=errors,
        seconds=seconds,
        latencies=tuple(latencies),
        server_cpu_s=server_used,
        postgres_cpu_s=used["postgres_s"],
    )
