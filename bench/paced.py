"""An open-loop HTTP load: requests sent on a fixed schedule (so many per second), whatever the
server's answers, as telephone calls arrive.

Request i is due at `start + i / rate`. A few client threads, each with its own keep-alive
connection, take the next request, build it, wait for its due time and send it; a request's latency
runs from sending to the full response. If the server (or the client, which shares the machine)
falls behind, requests leave late: how late is reported too, so a rate that was not held shows.
The run is bounded in time as well as in count: once twice the planned duration (plus ten seconds)
has passed, the requests not yet sent are dropped and counted.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from bench.stats import Summary, summarise

# (path, form fields, headers) for request i
RequestFor = Callable[[int], tuple[str, dict[str, str], dict[str, str]]]


@dataclass
class PacedResult:
    planned_rate: float
    sent: int
    unsent: int
    errors: int
    seconds: float
    latency: Summary
    late: Summary  # how long after its due time each request left
    statuses: dict[str, int] = field(default_factory=dict)
    thirds: list[Summary] = field(default_factory=list)  # latency over the run, by third

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "planned_rate": self.planned_rate,
            "sent": self.sent,
            "unsent": self.unsent,
            "errors": self.errors,
            "seconds": self.seconds,
            "per_second": self.per_second,
            "latency": self.latency.as_dict(),
            "late": self.late.as_dict(),
            "statuses": self.statuses,
            "latency_by_third": [t.as_dict() for t in self.thirds],
        }


def paced_post(
    base_url: str,
    request_for: RequestFor,
    *,
    rate: float,
    seconds: float,
    threads: int,
    expect: int = 200,
) -> PacedResult:
    """POST form-encoded requests at `rate` per second for `seconds` from `threads` threads."""
    total = int(rate * seconds)
    counter = itertools.count()
    outcomes: list[list[tuple[int, float, float, str]]] = [[] for _ in range(threads)]
    start = time.perf_counter() + 0.2
    deadline = start + 2 * seconds + 10

    def worker(out: list[tuple[int, float, float, str]]) -> None:
        with requests.Session() as session:
            while (i := next(counter)) < total and time.perf_counter() < deadline:
                path, form, headers = request_for(i)
                due = start + i / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                sent = time.perf_counter()
                try:
                    status = str(
                        session.post(
                            base_url + path, data=form, headers=headers, timeout=30
                        ).status_code
                    )
                except requests.RequestException as exc:
                    status = type(exc).__name__
                out.append((i, sent - due, time.perf_counter() - sent, status))

    workers = [threading.Thread(target=worker, args=(o,), daemon=True) for o in outcomes]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    flat = sorted((o for out in outcomes for o in out), key=lambda o: o[0])
    statuses = Counter(o[3] for o in flat)
    third = max(1, len(flat) // 3)
    return PacedResult(
        planned_rate=rate,
        sent=len(flat),
        unsent=total - len(flat),
        errors=sum(n for s, n in statuses.items() if s != str(expect)),
        seconds=elapsed,
        latency=summarise([o[2] for o in flat]),
        late=summarise([max(o[1], 0.0) for o in flat]),
        statuses=dict(statuses),
        thirds=[summarise([o[2] for o in flat[k * third : (k + 1) * third]]) for k in range(3)],
    )


def paced_with_cpu(
    run: Any,
    web: Any,
    label: str,
    request_for: RequestFor,
    *,
    rate: float,
    seconds: float,
    threads: int,
    database: str,
    unit: str = "request",
) -> tuple[PacedResult, dict[str, float]]:
    """`paced_post` against a web process, with the CPU each request cost the client, the web
    process and its PostgreSQL backends; prints the figures and keeps them in `run.details`."""
    from tqdm import tqdm

    from bench.server import CpuSample

    before = CpuSample.take(web.pids(), database)
    result = paced_post(web.base_url, request_for, rate=rate, seconds=seconds, threads=threads)
    cpu = CpuSample.take(web.pids(), database).used_since(before)
    names = {
        "client_s": "client",
        "server_s": "web process",
        "postgres_s": "PostgreSQL (its backends)",
        "machine_busy_s": "whole machine",
    }
    per_request = {names[k]: v / max(result.sent, 1) * 1000 for k, v in cpu.items() if k in names}
    busy = cpu["machine_busy_s"] / cpu["machine_total_s"] if cpu["machine_total_s"] else 0.0
    tqdm.write(
        f"{label}: {result.sent} requests in {result.seconds:.1f} s = {result.per_second:.1f}/s "
        f"(planned {rate:.0f}/s); {result.latency.brief()}; errors {result.errors} "
        f"{result.statuses}" + (f"; {result.unsent} not sent (time limit)" if result.unsent else "")
    )
    tqdm.write(
        f"  sent late by p50 {result.late.p50_ms:.1f} ms, p99 {result.late.p99_ms:.1f} ms, "
        f"max {result.late.max_ms:.1f} ms; p50 by third of the run: "
        + " / ".join(f"{t.p50_ms:.1f}" for t in result.thirds)
        + " ms; p95 by third: "
        + " / ".join(f"{t.p95_ms:.1f}" for t in result.thirds)
        + " ms"
    )
    tqdm.write(
        f"  CPU ms per {unit}: "
        + ", ".join(f"{k} {v:.2f}" for k, v in per_request.items())
        + f"; machine busy {busy:.0%}"
    )
    run.details[label] = result.as_dict() | {
        "threads": threads,
        "cpu_ms_per_request": per_request,
        "machine_utilisation": busy,
    }
    return result, per_request
