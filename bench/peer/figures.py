"""The arithmetic of the side-by-side run: rounds summed per system, rates, CPU per request, ratios.

Pure: the load generator hands in what it counted and the CPU the servers' processes used, and
this module turns them into the table and the ratios against the issue's targets. A shared machine
moves every absolute figure; the ratios of rounds run back to back move much less, so each ratio is
given over the whole run and as the range of its per-round values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.stats import Summary, summarise

OURS, PEER, FLOOR = "ours", "peer", "floor"
CREATE, LIST, FETCH = "ticket create", "list page 1", "fetch one"

# Issue #23's targets.
CREATE_RATE_VS_PEER = 5.0  # ours / peer, tickets per second
CREATE_CPU_VS_FLOOR = 2.0  # ours / floor, server CPU per request (at most)
CREATE_RATE_ABSOLUTE = 500.0  # tickets per second
READ_RATE_VS_PEER = 300.0  # ours / peer, requests per second


@dataclass(frozen=True)
class Round:
    """One bounded burst of requests against one system, and what its processes spent on it."""

    system: str
    figure: str
    requests: int
    errors: int
    seconds: float
    latencies: tuple[float, ...]  # seconds, one per request answered as expected
    server_cpu_s: float  # utime + stime of the server's arbiter and workers
    postgres_cpu_s: float  # of the backends connected to the system's database

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def server_cpu_ms(self) -> float:
        return self.server_cpu_s / self.requests * 1000 if self.requests else 0.0


@dataclass(frozen=True)
class Result:
    """One system on one figure over all its rounds."""

    system: str
    figure: str
    rounds: int
    requests: int
    errors: int
    seconds: float
    latency: Summary
    server_cpu_s: float
    postgres_cpu_s: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU milliseconds per request (arbiter and workers)."""
        return self.server_cpu_s / self.requests * 1000 if self.requests else 0.0

    @property
    def postgres_cpu_ms(self) -> float:
        return self.postgres_cpu_s / self.requests * 1000 if self.requests else 0.0


def combine(rounds: Sequence[Round]) -> dict[tuple[str, str], Result]:
    """Rounds of the same system and figure summed: requests over the seconds they took, CPU over
    the requests, percentiles over every latency. Keyed by (figure, system), in first-seen order."""
    grouped: dict[tuple[str, str], list[Round]] = {}
    for r in rounds:
        grouped.setdefault((r.figure, r.system), []).append(r)
    out = {}
    for (figure, system), rs in grouped.items():
        out[(figure, system)] = Result(
            system=system,
            figure=figure,
            rounds=len(rs),
            requests=sum(r.requests for r in rs),
            errors=sum(r.errors for r in rs),
            seconds=sum(r.seconds for r in rs),
            latency=summarise([t for r in rs for t in r.latencies]),
            server_cpu_s=sum(r.server_cpu_s for r in rs),
            postgres_cpu_s=sum(r.postgres_cpu_s for r in rs),
        )
    return out


@dataclass(frozen=True)
class Ratio:
    """ours / other on one quantity, over the run and per round, against a target if any."""

    figure: str
    quantity: str
    value: float
    lowest: float  # of the per-round ratios
    highest: float
    target: str
    met: bool | None


def _divide(a: float, b: float) -> float:
    return a / b if b else float("inf")


def _per_round(rounds: Sequence[Round], figure: str, other: str, value: str) -> list[float]:
    """The ratio ours/other of the k-th round of each, for every k both have."""
    mine = [r for r in rounds if r.figure == figure and r.system == OURS]
    theirs = [r for r in rounds if r.figure == figure and r.system == other]
    return [
        _divide(float(getattr(a, value)), float(getattr(b, value)))
        for a, b in zip(mine, theirs, strict=False)
    ]


def ratios(rounds: Sequence[Round]) -> list[Ratio]:
    """The ratios the issue sets targets on (and the create rate against the floor, for reading)."""
    results = combine(rounds)
    out: list[Ratio] = []

    def add(figure: str, other: str, value: str, label: str, target: str, test: object) -> None:
        if (figure, OURS) not in results or (figure, other) not in results:
            return
        whole = _divide(
            float(getattr(results[(figure, OURS)], value)),
            float(getattr(results[(figure, other)], value)),
        )
        each = _per_round(rounds, figure, other, value) or [whole]
        met = test(whole) if callable(test) else None
        out.append(Ratio(figure, label, whole, min(each), max(each), target, met))

    add(
        CREATE,
        PEER,
        "per_second",
        "rate, ours / peer",
        f">= {CREATE_RATE_VS_PEER:.0f}x",
        lambda v: v >= CREATE_RATE_VS_PEER,
    )
    add(
        CREATE,
        FLOOR,
        "server_cpu_ms",
        "server CPU per request, ours / floor",
        f"<= {CREATE_CPU_VS_FLOOR:.0f}x",
        lambda v: v <= CREATE_CPU_VS_FLOOR,
    )
    add(CREATE, FLOOR, "per_second", "rate, ours / floor", "-", None)
    add(CREATE, PEER, "server_cpu_ms", "server CPU per request, ours / peer", "-", None)
    for figure in (LIST, FETCH):
        add(
            figure,
            PEER,
            "per_second",
            "rate, ours / peer",
            f">= {READ_RATE_VS_PEER:.0f}x",
            lambda v: v >= READ_RATE_VS_PEER,
        )
    return out


def absolute_create(results: dict[tuple[str, str], Result]) -> bool | None:
    """Whether ours created at least the issue's absolute rate (None when not measured)."""
    mine = results.get((CREATE, OURS))
    return None if mine is None else mine.per_second >= CREATE_RATE_ABSOLUTE


RESULT_HEADERS = (
    "figure",
    "system",
    "rounds",
    "requests",
    "errors",
    "req/s",
    "p50 ms",
    "p95 ms",
    "server CPU ms/req",
    "PostgreSQL CPU ms/req",
)


def result_rows(results: dict[tuple[str, str], Result]) -> list[list[str]]:
    return [
        [
            r.figure,
            r.system,
            str(r.rounds),
            str(r.requests),
            str(r.errors),
            _number(r.per_second),
            f"{r.latency.p50_ms:.1f}",
            f"{r.latency.p95_ms:.1f}",
            f"{r.server_cpu_ms:.2f}",
            f"{r.postgres_cpu_ms:.2f}",
        ]
        for r in results.values()
    ]


RATIO_HEADERS = ("figure", "ratio", "whole run", "rounds (lowest-highest)", "target", "met?")


def ratio_rows(items: Sequence[Ratio]) -> list[list[str]]:
    verdict = {True: "yes", False: "NO", None: "-"}
    return [
        [
            r.figure,
            r.quantity,
            f"{_number(r.value)}x",
            f"{_number(r.lowest)}-{_number(r.highest)}x",
            r.target,
            verdict[r.met],
        ]
        for r in items
    ]


def _number(value: float) -> str:
    """Three significant figures or so: 0.85, 9.7, 123, 4,560."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
