"""Thin tasks: keep today's ETAs current as the day goes on (Celery beat or the scheduler)."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy import select

from helpdesk.db import utcnow
from helpdesk.dispatch import planning, service
from helpdesk.dispatch.models import Technician, WorkOrder
from helpdesk.dispatch.workflow import ACTIVE
from helpdesk.extensions import db


@shared_task(name="helpdesk.dispatch.tasks.refresh_routes")
def refresh_routes() -> int:
    """Re-plan today's routes of technicians with jobs left: a job running long or a technician
    still at home past the shift start moves the next arrivals, and the customers' ETAs."""
    settings = service.current_settings()
    now = utcnow()
    today = service.local_day(now, settings.timezone)
    ids = set(
        db.session.scalars(
            select(WorkOrder.technician_id).where(
                WorkOrder.day == today,
                WorkOrder.status.in_(tuple(ACTIVE)),
                WorkOrder.technician_id.is_not(None),
            )
        )
    )
    for tech in db.session.scalars(select(Technician).where(Technician.id.in_(ids))):
        planning.replan(db.session, technician=tech, day=today, settings=settings, now=now)
    db.session.commit()
    return len(ids)
