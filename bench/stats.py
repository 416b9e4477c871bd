"""Latency samples and the percentiles reported for them."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Summary:
    """Percentiles of one series of timings, in milliseconds."""

    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def brief(self) -> str:
        return (
            f"p50 {self.p50_ms:.2f} ms  p95 {self.p95_ms:.2f} ms  p99 {self.p99_ms:.2f} ms  "
            f"max {self.max_ms:.2f} ms  (n={self.n})"
        )


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted sequence.

    Nearest rank always answers a value that was actually observed, which is what a reader of
    "p99" expects from a few hundred samples.
    """
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summarise(seconds: Sequence[float]) -> Summary:
    ordered = sorted(s * 1000 for s in seconds)
    if not ordered:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    return Summary(
        n=len(ordered),
        p50_ms=percentile(ordered, 50),
        p95_ms=percentile(ordered, 95),
        p99_ms=percentile(ordered, 99),
        mean_ms=sum(ordered) / len(ordered),
        max_ms=ordered[-1],
    )


def time_calls(call: Callable[[int], object], *, samples: int, warmup: int) -> Summary:
    """Time `call(i)` for i in range(samples) after `warmup` untimed calls.

    The warm-up fills PostgreSQL's buffers, SQLAlchemy's statement cache and psycopg's prepared
    statements, so the figures describe a server in its steady state rather than its first seconds.
    """
    for i in range(warmup):
        call(i)
    timings: list[float] = []
    for i in range(samples):
        start = time.perf_counter()
        call(i)
        timings.append(time.perf_counter() - start)
    return summarise(timings)


@dataclass
class GcPauses:
    """Time the cyclic garbage collector ran while attached, per generation (0, 1, 2).

    A full (generation 2) collection walks every tracked object of the process, so its pause
    grows with everything the process holds, not with the work that triggered it.
    """

    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    counts: list[int] = field(default_factory=lambda: [0, 0, 0])
    _started: float = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            generation = int(info["generation"])
            self.seconds[generation] += time.perf_counter() - self._started
            self.counts[generation] += 1

    @contextmanager
    def attached(self) -> Iterator[GcPauses]:
        gc.callbacks.append(self._callback)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._callback)

    @property
    def total_ms(self) -> float:
        return sum(self.seconds) * 1000
