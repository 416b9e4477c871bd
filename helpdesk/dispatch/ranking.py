"""Which technicians can take a job, and in what order to suggest them: pure functions.

A technician qualifies when active, holding every required skill, on shift during the promised
window, below their maximum number of jobs that day, and free: the job can be slotted into their
day (between two of their jobs, keeping the order of the others) so that they arrive within the
window, finish before their shift ends and make no other job late. Among the qualified, the
suggestion order is the extra driving the job costs (the detour) plus a load term, so that a
nearly full technician a little closer does not take everything; each suggestion says why.

The others are returned too, each with the reason it was left out: a dispatcher who expects
someone in the list must be able to see why they are not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from helpdesk.dispatch.geo import AVERAGE_SPEED_KMH, Point, road_km
from helpdesk.dispatch.routing import Stop

# A fully booked day weighs as much as this many extra kilometres.
LOAD_KM = 20.0
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Job:
    id: int
    point: Point
    duration_s: float
    window_start: datetime
    window_end: datetime
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    skills: frozenset[str]
    start: Point  # where the day starts: home base, or where the technician is now
    start_time: datetime  # when: the shift's start, or now
    shift: tuple[Interval, ...]  # open intervals of the day, sorted
    max_jobs: int
    jobs: tuple[Stop, ...] = ()  # the day's other jobs, in route order
    fixed: int = 0  # leading jobs already under way: the new one cannot go before them
    active: bool = True


@dataclass(frozen=True)
class Suggestion:
    technician_id: int
    name: str
    score: float
    detour_km: float
    distance_km: float  # from the stop before it (or the start) to the site
    jobs_today: int
    max_jobs: int
    arrival: datetime  # when the work would start
    position: int  # where it goes in the day's order
    reason: str


@dataclass(frozen=True)
class Exclusion:
    technician_id: int
    name: str
    code: str  # inactive | missing_skills | off_shift | full | no_room
    detail: str = ""


@dataclass
class Ranking:
    suggestions: list[Suggestion] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)


def _overlaps(shift: Sequence[Interval], start: datetime, end: datetime) -> bool:
    return any(s < end and start < e for s, e in shift)


def _best_insertion(job: Job, c: Candidate) -> tuple[int, float, float, datetime] | None:
    """Cheapest feasible slot: (position, detour km, km from the previous stop, start)."""
    speed = AVERAGE_SPEED_KMH / 3600.0  # km per second
    points = [c.start] + [s.point for s in c.jobs]
    chain = [road_km(points[i], points[i + 1]) for i in range(len(points) - 1)]
    to_job = [road_km(p, job.point) for p in points]
    t0 = c.start_time
    w_open = (job.window_start - t0).total_seconds()
    w_close = (job.window_end - t0).total_seconds()
    shift = [((s - t0).total_seconds(), (e - t0).total_seconds()) for s, e in c.shift]
    opens = [(s.window_start - t0).total_seconds() if s.window_start else 0.0 for s in c.jobs]
    closes = [(s.window_end - t0).total_seconds() if s.window_end else float("inf") for s in c.jobs]
    shift_end = shift[-1][1] if shift else 0.0

    def late_of_rest(clock: float, here_leg: float, k: int) -> float | None:
        """Lateness of jobs k.. once the technician leaves the previous stop at `clock`."""
        late = 0.0
        for i in range(k, len(c.jobs)):
            clock += here_leg / speed
            clock = max(clock, opens[i])
            late += max(0.0, clock - closes[i])
            clock += c.jobs[i].duration_s
            here_leg = chain[i + 1] if i + 1 < len(chain) else 0.0
        if clock > shift_end + 1e-6:
            return None
        return late

    # The clock on leaving each stop in the current order, and its lateness, for comparison.
    leave = [0.0]
    base_late = 0.0
    clock = 0.0
    for i, s in enumerate(c.jobs):
        clock = max(clock + chain[i] / speed, opens[i])
        base_late += max(0.0, clock - closes[i])
        clock += s.duration_s
        leave.append(clock)
    best: tuple[int, float, float, datetime] | None = None
    for k in range(c.fixed, len(c.jobs) + 1):
        arrive = leave[k] + to_job[k] / speed
        start = max(arrive, w_open)
        if start > w_close:
            continue  # later slots only start later
        end = start + job.duration_s
        if not any(s <= start and end <= e + 1e-6 for s, e in shift):
            continue
        if k < len(c.jobs):
            rest = late_of_rest(end, to_job[k + 1], k)
            old_leg = chain[k]
            detour = to_job[k] + to_job[k + 1] - old_leg
        else:
            rest = 0.0 if end <= shift_end + 1e-6 else None
            detour = to_job[k]
        if rest is None:
            continue
        # Lateness of the jobs before k is unchanged; those after must not get later than now.
        late_before = _late_upto(c, chain, opens, closes, k, speed)
        if late_before + rest > base_late + 1e-6:
            continue
        if best is None or detour < best[1]:
            best = (k, detour, to_job[k], t0 + timedelta(seconds=start))
    return best


def _late_upto(
    c: Candidate,
    chain: list[float],
    opens: list[float],
    closes: list[float],
    k: int,
    speed: float,
) -> float:
    clock = late = 0.0
    for i in range(k):
        clock = max(clock + chain[i] / speed, opens[i])
        late += max(0.0, clock - closes[i])
        clock += c.jobs[i].duration_s
    return late


def rank(
    job: Job, candidates: Iterable[Candidate], *, limit: int = 10, timezone: str = "UTC"
) -> Ranking:
    """The qualified technicians, best first (at most `limit`), and why the others are not.

    Each reason gives the start time on the clock of `timezone` (the helpdesk's), the one the
    dispatcher and the technician read."""
    zone = ZoneInfo(timezone)
    out = Ranking()
    for c in candidates:
        if not c.active:
            out.excluded.append(Exclusion(c.id, c.name, "inactive"))
            continue
        missing = job.skills - c.skills
        if missing:
            out.excluded.append(
                Exclusion(c.id, c.name, "missing_skills", ", ".join(sorted(missing)))
            )
            continue
        if not _overlaps(c.shift, job.window_start, job.window_end):
            out.excluded.append(Exclusion(c.id, c.name, "off_shift"))
            continue
        if len(c.jobs) >= c.max_jobs:
            out.excluded.append(Exclusion(c.id, c.name, "full", f"{len(c.jobs)}/{c.max_jobs}"))
            continue
        slot = _best_insertion(job, c)
        if slot is None:
            out.excluded.append(Exclusion(c.id, c.name, "no_room"))
            continue
        position, detour, distance, start = slot
        load = len(c.jobs) / c.max_jobs if c.max_jobs else 1.0
        out.suggestions.append(
            Suggestion(
                technician_id=c.id,
                name=c.name,
                score=round(detour + LOAD_KM * load, 3),
                detour_km=round(detour, 2),
                distance_km=round(distance, 2),
                jobs_today=len(c.jobs),
                max_jobs=c.max_jobs,
                arrival=start,
                position=position,
                reason=(
                    f"{detour:.1f} km detour, {len(c.jobs)} of {c.max_jobs} jobs that day, "
                    f"can start at {start.astimezone(zone):%H:%M}"
                ),
            )
        )
    out.suggestions.sort(key=lambda s: (s.score, s.arrival, s.technician_id))
    del out.suggestions[limit:]
    return out
