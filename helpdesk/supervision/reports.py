"""Historical call reports, computed from the call event log in one aggregate query.

Rows group by 15-minute interval, hour, day, queue or agent. The counters are the live
statistics' own (same events, same threshold), so today's report equals the wallboard's figures:
the test suite checks it after a scripted day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, case, cast, func, select

from helpdesk.db import DbSession
from helpdesk.supervision.models import CallEvent

GROUPINGS = ("interval", "hour", "day", "queue", "agent")
COLUMNS = (
    "entered",
    "answered",
    "answered_in_sl",
    "abandoned",
    "abandoned_in_sl",
    "completed",
    "transferred",
    "callbacks",
    "rejected",
    "timeouts",
)


@dataclass(frozen=True)
class ReportSpec:
    start_day: str  # local days, included: "2026-12-01"
    end_day: str
    by: str = "interval"
    queue: str | None = None
    threshold_s: float = 20.0


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _sum(condition: Any, column: Any) -> Any:
    return func.sum(case((condition, column), else_=0.0))


def call_report(session: DbSession, spec: ReportSpec) -> dict[str, Any]:
    if spec.by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    e = CallEvent.event
    threshold = spec.threshold_s
    measures = [
        _count(e == "entered").label("entered"),
        _count(e == "connected").label("answered"),
        _count((e == "connected") & (CallEvent.wait_s <= threshold)).label("answered_in_sl"),
        _count(e == "abandoned").label("abandoned"),
        _count((e == "abandoned") & (CallEvent.wait_s <= threshold)).label("abandoned_in_sl"),
        _count(e == "completed").label("completed"),
        _count(e == "transferred").label("transferred"),
        _count(e == "callback").label("callbacks"),
        _count(e == "rejected").label("rejected"),
        _count(e == "timeout").label("timeouts"),
        _sum(e == "connected", CallEvent.wait_s).label("wait_s"),
        _sum(e == "completed", CallEvent.talk_s).label("talk_s"),
    ]
    keys: list[Any]
    if spec.by == "interval":
        keys = [CallEvent.day, CallEvent.slot]
    elif spec.by == "hour":
        keys = [CallEvent.day, cast(CallEvent.slot / 4, Integer).label("hour")]
    elif spec.by == "day":
        keys = [CallEvent.day]
    elif spec.by == "queue":
        keys = [CallEvent.queue]
    else:
        keys = [CallEvent.agent_id]
    where = [CallEvent.day >= spec.start_day, CallEvent.day <= spec.end_day]
    if spec.by == "agent":
        where.append(CallEvent.agent_id.is_not(None))
        where.append(e.in_(("offered", "connected", "completed", "rejected", "timeout")))
    else:
        where.append(CallEvent.queue.is_not(None))
    if spec.queue:
        where.append(CallEvent.queue == spec.queue)
    stmt = select(*keys, *measures).where(*where).group_by(*keys).order_by(*keys)
    rows = [_row(spec.by, r) for r in session.execute(stmt)]
    total = _figures({c: sum(r[c] for r in rows) for c in (*COLUMNS, "wait_s", "talk_s")})
    return {"by": spec.by, "threshold_s": threshold, "rows": rows, "total": total}


def _row(by: str, r: Any) -> dict[str, Any]:
    m = r._mapping
    counts = {c: int(m[c] or 0) for c in COLUMNS}
    sums = {"wait_s": float(m["wait_s"] or 0.0), "talk_s": float(m["talk_s"] or 0.0)}
    if by == "interval":
        key = f"{m['day']} {m['slot'] // 4:02d}:{m['slot'] % 4 * 15:02d}"
    elif by == "hour":
        key = f"{m['day']} {int(m['hour']):02d}:00"
    elif by == "day":
        key = str(m["day"])
    elif by == "queue":
        key = str(m["queue"])
    else:
        key = str(m["agent_id"])
    return {"key": key, **_figures({**counts, **sums})}


def _figures(c: dict[str, Any]) -> dict[str, Any]:
    answered, abandoned = c["answered"], c["abandoned"]
    out = {k: c[k] for k in COLUMNS}
    out.update(
        wait_s=round(c["wait_s"], 3),
        talk_s=round(c["talk_s"], 3),
        service_level=_ratio(c["answered_in_sl"], answered),
        service_level_abandons=_ratio(c["answered_in_sl"], answered + abandoned),
        asa_s=_ratio(c["wait_s"], answered, 1),
        aht_s=_ratio(c["talk_s"], c["completed"], 1),
        abandon_rate=_ratio(abandoned, answered + abandoned),
    )
    return out


def _ratio(num: float, den: float, digits: int = 4) -> float | None:
    return round(num / den, digits) if den else None
