"""A technician's day route: the order of the jobs and the estimated arrival at each, as pure
functions (no database, no Flask) so that they are property-tested and benchmarked on their own.

The heuristic is the classic one for a small tour with time windows: a time-aware nearest
neighbour (the job the technician can start soonest comes next) builds a first route, then 2-opt
reverses segments while that lowers the cost. The cost counts lateness far above driving time,
so a route that keeps every promised window always beats a shorter one that breaks one; 2-opt
only ever accepts a strictly cheaper route, so it is never worse than the route it started from.

A job's window is the promise made to the customer: the technician arrives between
`window_start` and `window_end`. Arriving early means waiting until the window opens; arriving
after it closes is lateness, reported per visit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from helpdesk.dispatch.geo import Point, travel_seconds

# One second late weighs as much as this many seconds of driving.
LATE_WEIGHT = 1000.0
MAX_PASSES = 50

Travel = Callable[[Point, Point], float]


class Stop(NamedTuple):
    """A job to visit (a named tuple: a ranking among hundreds of technicians builds many)."""

    id: int
    point: Point
    duration_s: float
    window_start: datetime | None = None
    window_end: datetime | None = None


@dataclass(frozen=True)
class Visit:
    stop_id: int
    travel_s: float  # from the previous stop (or the start)
    arrival: datetime  # when the technician gets there
    start: datetime  # when the work starts: the arrival, or the window's opening
    end: datetime
    wait_s: float
    late_s: float


@dataclass(frozen=True)
class Route:
    visits: tuple[Visit, ...]
    travel_s: float
    late_s: float

    @property
    def order(self) -> list[int]:
        return [v.stop_id for v in self.visits]

    @property
    def cost(self) -> float:
        return self.travel_s + LATE_WEIGHT * self.late_s

    @property
    def ends_at(self) -> datetime | None:
        return self.visits[-1].end if self.visits else None


class _Problem:
    """The stops as plain numbers: a travel matrix and windows in seconds from the start time."""

    def __init__(self, start: Point, start_time: datetime, stops: Sequence[Stop], travel: Travel):
        self.start_time = start_time
        self.stops = list(stops)
        points = [start] + [s.point for s in stops]
        self.matrix = [[travel(a, b) if a != b else 0.0 for b in points] for a in points]
        t0 = start_time.timestamp()
        inf = float("inf")
        self.opens = [s.window_start.timestamp() - t0 if s.window_start else 0.0 for s in stops]
        self.closes = [s.window_end.timestamp() - t0 if s.window_end else inf for s in stops]
        self.durations = [s.duration_s for s in stops]

    def cost(self, order: Sequence[int]) -> float:
        """Travel plus weighted lateness of visiting stop indexes `order` (0-based) in turn."""
        m, opens, closes, durations = self.matrix, self.opens, self.closes, self.durations
        clock = 0.0
        here = 0
        travel = 0.0
        late = 0.0
        for i in order:
            leg = m[here][i + 1]
            travel += leg
            clock += leg
            if clock < opens[i]:
                clock = opens[i]
            elif clock > closes[i]:
                late += clock - closes[i]
            clock += durations[i]
            here = i + 1
        return travel + LATE_WEIGHT * late

    def route(self, order: Sequence[int]) -> Route:
        visits = []
        clock = 0.0
        here = 0
        travel = late_total = 0.0
        for i in order:
            leg = self.matrix[here][i + 1]
            travel += leg
            arrival = clock + leg
            start = max(arrival, self.opens[i])
            late = max(0.0, start - self.closes[i])
            late_total += late
            clock = start + self.durations[i]
            visits.append(
                Visit(
                    stop_id=self.stops[i].id,
                    travel_s=leg,
                    arrival=self._at(arrival),
                    start=self._at(start),
                    end=self._at(clock),
                    wait_s=start - arrival,
                    late_s=late,
                )
            )
            here = i + 1
        return Route(visits=tuple(visits), travel_s=travel, late_s=late_total)

    def _at(self, seconds: float) -> datetime:
        return self.start_time + timedelta(seconds=seconds)


def _nearest_neighbour(p: _Problem, fixed: int) -> list[int]:
    order = list(range(fixed))
    remaining = set(range(fixed, len(p.stops)))
    clock = 0.0
    here = 0
    for i in order:
        clock = max(clock + p.matrix[here][i + 1], p.opens[i]) + p.durations[i]
        here = i + 1
    while remaining:
        best: tuple[float, float, int] | None = None
        for i in remaining:
            arrival = clock + p.matrix[here][i + 1]
            if arrival > p.closes[i]:
                continue
            key = (max(arrival, p.opens[i]), p.matrix[here][i + 1], i)
            if best is None or key < best:
                best = key
        if best is None:
            # Nothing can be reached in its window any more: the one closing first, least late.
            chosen = min(remaining, key=lambda i: (p.closes[i], p.matrix[here][i + 1], i))
        else:
            chosen = best[2]
        clock = max(clock + p.matrix[here][chosen + 1], p.opens[chosen]) + p.durations[chosen]
        here = chosen + 1
        order.append(chosen)
        remaining.discard(chosen)
    return order


def _two_opt(p: _Problem, order: list[int], fixed: int, max_passes: int) -> list[int]:
    best = list(order)
    best_cost = p.cost(best)
    n = len(best)
    for _ in range(max_passes):
        improved = False
        for i in range(fixed, n - 1):
            for j in range(i + 1, n):
                candidate = best[:i] + best[i : j + 1][::-1] + best[j + 1 :]
                cost = p.cost(candidate)
                if cost < best_cost - 1e-9:
                    best, best_cost, improved = candidate, cost, True
        if not improved:
            break
    return best


def nearest_neighbour(
    start: Point,
    start_time: datetime,
    stops: Sequence[Stop],
    *,
    fixed: int = 0,
    travel: Travel = travel_seconds,
) -> Route:
    """The time-aware nearest-neighbour route; the first `fixed` stops keep their place."""
    p = _Problem(start, start_time, stops, travel)
    return p.route(_nearest_neighbour(p, fixed))


def plan(
    start: Point,
    start_time: datetime,
    stops: Sequence[Stop],
    *,
    fixed: int = 0,
    travel: Travel = travel_seconds,
    max_passes: int = MAX_PASSES,
) -> Route:
    """The day route: nearest neighbour improved by 2-opt, with arrival times.

    The first `fixed` stops (a job the technician is already driving to or working on) stay
    first, in the order given.
    """
    p = _Problem(start, start_time, stops, travel)
    return p.route(_two_opt(p, _nearest_neighbour(p, fixed), fixed, max_passes))


def evaluate(
    start: Point, start_time: datetime, stops: Sequence[Stop], *, travel: Travel = travel_seconds
) -> Route:
    """The route visiting `stops` in the order given."""
    p = _Problem(start, start_time, stops, travel)
    return p.route(range(len(stops)))
