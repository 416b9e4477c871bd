"""SLA compliance: the share of targets met, by period, group, priority, channel or metric."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from helpdesk.db import DbSession
from helpdesk.sla.models import SlaClock

DIMENSIONS = ("day", "week", "month", "group", "priority", "channel", "metric")


@dataclass
class ComplianceRow:
    key: str
    met: int = 0
    breached: int = 0

    @property
    def total(self) -> int:
        return self.met + self.breached

    @property
    def compliance(self) -> float | None:
        return round(self.met / self.total, 4) if self.total else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "met": self.met,
            "breached": self.breached,
            "total": self.total,
            "compliance": self.compliance,
        }


def _bucket(at: datetime, dimension: str, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    if dimension == "day":
        return local.date().isoformat()
    if dimension == "week":
        monday = local.date() - timedelta(days=local.weekday())
        return f"week of {monday.isoformat()}"
    return f"{local.year:04d}-{local.month:02d}"


def compliance(
    session: DbSession, *, start: datetime, end: datetime, by: str, timezone: str = "UTC"
) -> dict[str, Any]:
    """Targets decided in [start, end): met when stopped in time, breached when late.

    A target counts once, in the period in which it was decided (stopped, or breached while
    still running), so the report adds up with the `sla` entries of the ticket histories.
    """
    from helpdesk.auth.models import Group
    from helpdesk.tickets.models import Ticket

    decided_at = func.coalesce(SlaClock.breached_at, SlaClock.stopped_at)
    stmt = (
        select(
            SlaClock.metric,
            SlaClock.state,
            decided_at,
            Ticket.group_id,
            Ticket.priority,
            Ticket.channel,
        )
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(SlaClock.state.in_(("met", "breached")))
        .where(
            or_(
                and_(
                    SlaClock.breached_at.is_not(None),
                    SlaClock.breached_at >= start,
                    SlaClock.breached_at < end,
                ),
                and_(
                    SlaClock.breached_at.is_(None),
                    SlaClock.stopped_at >= start,
                    SlaClock.stopped_at < end,
                ),
            )
        )
    )
    zone = ZoneInfo(timezone)
    groups = {gid: name for gid, name in session.execute(select(Group.id, Group.name))}
    rows: dict[str, ComplianceRow] = defaultdict(lambda: ComplianceRow(""))
    overall = ComplianceRow("all")
    for metric, state, at, group_id, priority, channel in session.execute(stmt):
        if by in ("day", "week", "month"):
            key = _bucket(at, by, zone)
        elif by == "group":
            key = groups.get(group_id, "no group") if group_id else "no group"
        elif by == "priority":
            key = priority.value
        elif by == "channel":
            key = channel.value
        else:
            key = metric
        row = rows[key]
        row.key = key
        if state == "met":
            row.met += 1
            overall.met += 1
        else:
            row.breached += 1
            overall.breached += 1
    return {
        "by": by,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "overall": overall.as_dict(),
        "rows": [rows[k].as_dict() for k in sorted(rows)],
    }
