"""A ticket merged into another takes its visits along (`tickets.ticket_merge`)."""

from __future__ import annotations

from sqlalchemy import update

from helpdesk.db import DbSession, rowcount
from helpdesk.dispatch.models import WorkOrder


def move_work_orders(session: DbSession, *, source_id: int, target_id: int) -> int:
    return rowcount(
        session.execute(
            update(WorkOrder)
            .where(WorkOrder.ticket_id == source_id)
            .values(ticket_id=target_id)
            .execution_options(synchronize_session=False)
        )
    )
