"""The automatic run over the unassigned visits: each, most pressing first, to its best
suggestion, assigned through the service like a dispatcher's choice.

Above both the planner (which ranks) and the service (which assigns), so neither imports the
other back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from helpdesk.auth.models import User
from helpdesk.db import DbSession
from helpdesk.dispatch import service
from helpdesk.dispatch.planning import suggest, unassigned_queue
from helpdesk.dispatch.settings import Settings


def auto_dispatch(
    session: DbSession,
    *,
    actor: User | None,
    settings: Settings,
    limit: int = 100,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Give each unassigned work order, most pressing first, to its best suggestion.

    One at a time, each committed before the next is ranked, so that the second job sees the
    first one in its technician's day.
    """
    results: list[dict[str, Any]] = []
    for wo in unassigned_queue(session, settings=settings, now=now, limit=limit):
        found = suggest(session, wo, settings=settings, limit=1, now=now)
        if not found.suggestions:
            results.append(
                {
                    "work_order_id": wo.id,
                    "reference": wo.reference,
                    "technician_id": None,
                    "reason": "no qualified technician is free",
                }
            )
            continue
        best = found.suggestions[0]
        service.assign(
            session,
            wo,
            technician_id=best.technician_id,
            actor=actor,
            source="auto",
            settings=settings,
        )
        results.append(
            {
                "work_order_id": wo.id,
                "reference": wo.reference,
                "technician_id": best.technician_id,
                "reason": best.reason,
            }
        )
    return results
