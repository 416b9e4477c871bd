"""A closed-loop HTTP load: N threads, each with its own keep-alive connection, firing back to back.

Threads with `requests.Session` are the simplest client that keeps several connections busy; the
client shares the machine (and its two cores) with the server and PostgreSQL, so its own CPU use is
measured too and reported next to the server's.
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


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latency: Summary
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": self.seconds,
            "per_second": self.per_second,
            "latency": self.latency.as_dict(),
            "statuses": self.statuses,
        }


def post_load(
    url: str,
    token: str,
    body_for: Callable[[int], dict[str, Any]],
    *,
    expect: int,
    concurrency: int,
    total: int,
    max_seconds: float,
) -> LoadResult:
    """POST `body_for(i)` for i = 0, 1, ... from `concurrency` threads until `total` or the time
    limit; a response other than `expect` (or no response) is an error."""
    counter = itertools.count()
    deadline = time.monotonic() + max_seconds
    outcomes: list[list[tuple[float, str]]] = [[] for _ in range(concurrency)]

    def worker(out: list[tuple[float, str]]) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            while (i := next(counter)) < total and time.monotonic() < deadline:
                body = body_for(i)
                start = time.perf_counter()
                try:
                    status = str(session.post(url, json=body, timeout=30).status_code)
                except requests.RequestException as exc:
                    status = type(exc).__name__
                out.append((time.perf_counter() - start, status))

    threads = [threading.Thread(target=worker, args=(out,), daemon=True) for out in outcomes]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    flat = [o for out in outcomes for o in out]
    statuses = Counter(status for _, status in flat)
    return LoadResult(
        requests=len(flat),
        errors=sum(n for status, n in statuses.items() if status != str(expect)),
        seconds=seconds,
        latency=summarise([t for t, _ in flat]),
        statuses=dict(statuses),
    )
