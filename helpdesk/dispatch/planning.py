"""Planning with the database: re-plan a technician's day, suggest technicians for a work order,
auto-dispatch the unassigned queue. The maths is in `routing.py` and `ranking.py`; this module
only loads the rows they need (a fixed number of queries whatever the number of technicians)
and writes the results back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, select

from helpdesk.db import DbSession, utcnow
from helpdesk.dispatch import ranking, routing
from helpdesk.dispatch.geo import Point
from helpdesk.dispatch.models import Technician, WorkOrder
from helpdesk.dispatch.workflow import ACTIVE, WorkOrderStatus
from helpdesk.events import publish
from helpdesk.sla.calendar import BusinessCalendar, weekly_from_mapping
from helpdesk.sla.models import CalendarModel

if TYPE_CHECKING:
    from helpdesk.dispatch.settings import Settings

S = WorkOrderStatus
Interval = tuple[datetime, datetime]
# The working week of a technician without a shift calendar.
DEFAULT_SHIFT = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


@lru_cache(maxsize=8)
def default_calendar(timezone: str) -> BusinessCalendar:
    return BusinessCalendar(timezone=timezone, weekly=weekly_from_mapping(DEFAULT_SHIFT))


def _calendars(session: DbSession, ids: set[int], timezone: str) -> dict[int | None, Any]:
    from helpdesk.sla.service import calendar_of

    out: dict[int | None, Any] = {None: default_calendar(timezone)}
    if ids:
        for model in session.scalars(select(CalendarModel).where(CalendarModel.id.in_(ids))):
            out[model.id] = calendar_of(model)
    return out


def day_bounds(day: str, timezone: str) -> Interval:
    zone = ZoneInfo(timezone)
    d = date.fromisoformat(day)
    start = datetime.combine(d, time(0), zone)
    return start, datetime.combine(d + timedelta(days=1), time(0), zone)


def shift_of(calendar: BusinessCalendar, day: str, timezone: str) -> tuple[Interval, ...]:
    start, end = day_bounds(day, timezone)
    return tuple(calendar.open_intervals(start, end))


def _ordered(jobs: list[Any]) -> list[Any]:
    """Under way first (on site, then on the way), then the planned order."""
    rank = {S.ON_SITE: 0, S.EN_ROUTE: 1}
    return sorted(
        jobs,
        key=lambda w: (
            rank.get(w.status, 2),
            w.route_position if w.route_position is not None else 999,
            w.window_start,
            w.id,
        ),
    )


def _stop(wo: Any, now: datetime) -> routing.Stop:
    duration = wo.duration_min * 60.0
    if wo.status is S.ON_SITE and wo.arrived_at is not None:
        duration = max(0.0, duration - (now - wo.arrived_at).total_seconds())
        return routing.Stop(wo.id, Point(wo.lat, wo.lon), duration)
    return routing.Stop(wo.id, Point(wo.lat, wo.lon), duration, wo.window_start, wo.window_end)


def _start_of(
    tech: Any,
    day: str,
    shift: tuple[Interval, ...],
    now: datetime,
    timezone: str,
    today: str | None = None,
) -> tuple[Point, datetime]:
    """Where and when the rest of the day starts: home at shift start, or here and now."""
    day_start = shift[0][0] if shift else day_bounds(day, timezone)[0] + timedelta(hours=8)
    home = Point(tech.home_lat, tech.home_lon)
    today = today or now.astimezone(ZoneInfo(timezone)).date().isoformat()
    if day == today and now > day_start:
        here = (
            Point(tech.last_lat, tech.last_lon)
            if tech.last_lat is not None and tech.last_lon is not None
            else home
        )
        return here, now
    return home, day_start


def open_days(session: DbSession, technician_id: int) -> list[str]:
    return list(
        session.scalars(
            select(WorkOrder.day)
            .where(WorkOrder.technician_id == technician_id, WorkOrder.status.in_(tuple(ACTIVE)))
            .distinct()
        )
    )


def replan(
    session: DbSession,
    *,
    technician: Technician,
    day: str,
    settings: Settings,
    now: datetime | None = None,
) -> routing.Route:
    """Order the technician's jobs of `day` and store each one's estimated arrival."""
    now = now or utcnow()
    jobs = _ordered(
        list(
            session.scalars(
                select(WorkOrder).where(
                    WorkOrder.technician_id == technician.id,
                    WorkOrder.day == day,
                    WorkOrder.status.in_(tuple(ACTIVE)),
                )
            )
        )
    )
    calendar = _calendars(
        session, {technician.calendar_id} if technician.calendar_id else set(), settings.timezone
    ).get(technician.calendar_id) or default_calendar(settings.timezone)
    shift = shift_of(calendar, day, settings.timezone)
    start, start_time = _start_of(technician, day, shift, now, settings.timezone)
    fixed = sum(1 for w in jobs if w.status in (S.ON_SITE, S.EN_ROUTE))
    route = routing.plan(start, start_time, [_stop(w, now) for w in jobs], fixed=fixed)
    by_id = {w.id: w for w in jobs}
    for position, visit in enumerate(route.visits):
        wo = by_id[visit.stop_id]
        wo.route_position = position
        wo.late_s = int(visit.late_s)
        wo.eta_at = wo.arrived_at if wo.status is S.ON_SITE and wo.arrived_at else visit.start
    publish(
        session,
        "dispatch.route",
        ["role:dispatcher", "role:supervisor", "role:admin"],
        {"technician_id": technician.id, "day": day, "order": route.order},
    )
    return route


@dataclass
class DayPlan:
    technician: Technician
    shift: tuple[Interval, ...]
    jobs: list[WorkOrder]


def board_days(session: DbSession, *, day: str, settings: Settings) -> list[DayPlan]:
    """Every active technician's shift and jobs on `day`, in route order (two queries)."""
    techs = list(
        session.scalars(select(Technician).where(Technician.active).order_by(Technician.name))
    )
    jobs: dict[int, list[WorkOrder]] = defaultdict(list)
    for wo in session.scalars(
        select(WorkOrder).where(
            WorkOrder.day == day,
            WorkOrder.technician_id.is_not(None),
            WorkOrder.status.in_((S.SCHEDULED, S.EN_ROUTE, S.ON_SITE, S.COMPLETED)),
        )
    ):
        assert wo.technician_id is not None
        jobs[wo.technician_id].append(wo)
    cals = _calendars(session, {t.calendar_id for t in techs if t.calendar_id}, settings.timezone)
    out = []
    for t in techs:
        mine = sorted(jobs.get(t.id, []), key=lambda w: (w.eta_at or w.window_start, w.id))
        out.append(
            DayPlan(
                t, shift_of(cals.get(t.calendar_id) or cals[None], day, settings.timezone), mine
            )
        )
    return out


# The columns the ranking needs: loading rows rather than ORM objects keeps a suggestion among
# hundreds of technicians well inside its time budget (see docs/benchmarks.md).
_TECH_COLUMNS = (
    Technician.id,
    Technician.name,
    Technician.skills,
    Technician.home_lat,
    Technician.home_lon,
    Technician.last_lat,
    Technician.last_lon,
    Technician.calendar_id,
    Technician.max_jobs_per_day,
    Technician.active,
)
_JOB_COLUMNS = (
    WorkOrder.id,
    WorkOrder.technician_id,
    WorkOrder.lat,
    WorkOrder.lon,
    WorkOrder.duration_min,
    WorkOrder.window_start,
    WorkOrder.window_end,
    WorkOrder.status,
    WorkOrder.route_position,
    WorkOrder.arrived_at,
)


def candidates(
    session: DbSession, wo: WorkOrder, *, settings: Settings, now: datetime
) -> list[ranking.Candidate]:
    """Every active technician as the ranking sees them on the work order's day (two queries
    and the calendars, whatever the number of technicians).

    Only the technicians with the skills get their day loaded and prepared: the ranking leaves
    the others out on their skills alone, and they are most of the staff for a specialised job.
    """
    techs = list(session.execute(select(*_TECH_COLUMNS).where(Technician.active)))
    needed = set(wo.required_skills)
    skills_of = {t.id: frozenset(t.skills or ()) for t in techs}
    qualified = [t for t in techs if needed <= skills_of[t.id]]
    jobs: dict[int, list[Any]] = defaultdict(list)
    if qualified:
        for other in session.execute(
            select(*_JOB_COLUMNS).where(
                WorkOrder.day == wo.day,
                WorkOrder.technician_id.in_([t.id for t in qualified]),
                WorkOrder.status.in_(tuple(ACTIVE)),
                WorkOrder.id != wo.id,
            )
        ):
            jobs[other.technician_id].append(other)
    cals = _calendars(
        session, {t.calendar_id for t in qualified if t.calendar_id}, settings.timezone
    )
    shifts = {
        key: shift_of(cal, wo.day, settings.timezone) for key, cal in cals.items()
    }  # one per calendar, not one per technician
    today = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    out = []
    for t in techs:
        skills = skills_of[t.id]
        if not needed <= skills:
            # Ruled out on skills before anything else is looked at: no day to prepare.
            out.append(
                ranking.Candidate(
                    id=t.id,
                    name=t.name,
                    skills=skills,
                    start=Point(t.home_lat, t.home_lon),
                    start_time=now,
                    shift=(),
                    max_jobs=t.max_jobs_per_day,
                )
            )
            continue
        shift = shifts.get(t.calendar_id) or shifts[None]
        mine = _ordered(jobs.get(t.id, []))
        start, start_time = _start_of(t, wo.day, shift, now, settings.timezone, today)
        out.append(
            ranking.Candidate(
                id=t.id,
                name=t.name,
                skills=skills,
                start=start,
                start_time=start_time,
                shift=tuple((max(s, start_time), e) for s, e in shift if e > start_time),
                max_jobs=t.max_jobs_per_day,
                jobs=tuple(_stop(w, now) for w in mine),
                fixed=sum(1 for w in mine if w.status in (S.ON_SITE, S.EN_ROUTE)),
                active=t.active,
            )
        )
    return out


def suggest(
    session: DbSession,
    wo: WorkOrder,
    *,
    settings: Settings,
    limit: int = 10,
    now: datetime | None = None,
) -> ranking.Ranking:
    """The technicians who can take `wo`, best first, and why the others cannot."""
    now = now or utcnow()
    job = ranking.Job(
        id=wo.id,
        point=Point(wo.lat, wo.lon),
        duration_s=wo.duration_min * 60.0,
        window_start=wo.window_start,
        window_end=wo.window_end,
        skills=frozenset(wo.required_skills),
    )
    return ranking.rank(
        job,
        candidates(session, wo, settings=settings, now=now),
        limit=limit,
        timezone=settings.timezone,
    )


def unassigned_queue(
    session: DbSession, *, settings: Settings, now: datetime | None = None, limit: int = 200
) -> list[WorkOrder]:
    """Work orders to schedule, most pressing first: priority, SLA deadline, window."""
    now = now or utcnow()
    today = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    order = case(PRIORITY_ORDER, value=WorkOrder.priority, else_=9)
    return list(
        session.scalars(
            select(WorkOrder)
            .where(WorkOrder.status == S.UNSCHEDULED, WorkOrder.day >= today)
            .order_by(
                order,
                WorkOrder.deadline_at.is_(None),
                WorkOrder.deadline_at,
                WorkOrder.window_start,
                WorkOrder.id,
            )
            .limit(limit)
        )
    )


def dispatch_counts(results: list[dict[str, Any]]) -> dict[str, int]:
    """What the audit log keeps of an automatic dispatch run: visits considered and placed."""
    return {"visits": len(results), "assigned": sum(1 for r in results if r["technician_id"])}
