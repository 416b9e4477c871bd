"""Visits: the site's address and position, what the job is, the technician's notes, who signed.

Work orders keep their status, skills, duration, window, day, priority, technician, every
timestamp, lateness, parts used and satisfaction score (the dispatch figures); the summary,
description, address, notes and the acknowledging name go, and the position is rounded to about
ten kilometres (regional load stays readable, the house does not). A visit still to come is
cancelled (the technician is told, without the customer's details), and its job page link stops
working (agents_ui.dispatch_pages).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from helpdesk.db import DbSession, utcnow
from helpdesk.dispatch.models import WorkOrder, WorkOrderEvent
from helpdesk.dispatch.workflow import FINAL, WorkOrderStatus
from helpdesk.events import publish
from helpdesk.privacy.registry import ERASED, Holder, Subject, exempt, register

# Decimal places the position keeps: 0.1 degree is about 11 km.
POSITION_DECIMALS = 1
# Facts of a visit's history worth keeping (parts used count towards stock figures).
KEPT_EVENT_DATA = frozenset({"parts_used"})


def _orders(session: DbSession, subject: Subject) -> list[WorkOrder]:
    return list(
        session.scalars(
            select(WorkOrder)
            .where(WorkOrder.customer_id.in_(subject.customer_ids))
            .order_by(WorkOrder.id)
        )
    )


def addresses(session: DbSession, subject: Subject) -> Iterable[str]:
    return [wo.address for wo in _orders(session, subject) if wo.address and wo.address != ERASED]


def _cancel(session: DbSession, wo: WorkOrder) -> None:
    """Take an open visit off the plan without the customer texts a cancellation sends."""
    from helpdesk.dispatch import notify, planning, service

    settings = service.current_settings()
    old = service.move_status(wo, WorkOrderStatus.CANCELLED)
    tech = wo.technician
    wo.route_position, wo.eta_at = None, None
    session.flush()
    if tech is not None:
        if tech.status in ("en_route", "on_site") and old in ("en_route", "on_site"):
            tech.status = "available"
        planning.replan(session, technician=tech, day=wo.day, settings=settings)
        notify.technician_unassigned(session, wo, tech, settings)
    service.history(session, wo, action="cancelled", source="erasure", old=old)
    publish(session, "dispatch.work_order", service.rooms(wo), service.payload(wo))


def _personal(wo: WorkOrder) -> tuple[Any, ...]:
    return (
        wo.summary,
        wo.description,
        wo.address,
        wo.lat,
        wo.lon,
        wo.completion_notes,
        wo.acknowledged_by,
    )


def erase(session: DbSession, subject: Subject) -> int:
    changed = 0
    for wo in _orders(session, subject):
        if wo.status not in FINAL:
            _cancel(session, wo)
        before = _personal(wo)
        wo.summary, wo.description, wo.address = ERASED, "", ""
        wo.lat = round(wo.lat, POSITION_DECIMALS)
        wo.lon = round(wo.lon, POSITION_DECIMALS)
        wo.completion_notes, wo.acknowledged_by = "", ""
        if before != _personal(wo):
            wo.updated_at = utcnow()
            changed += 1
        for event in session.scalars(
            select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == wo.id)
        ):
            data = {k: v for k, v in (event.data or {}).items() if k in KEPT_EVENT_DATA}
            if event.note or data != (event.data or {}):
                event.note, event.data = "", data
                changed += 1
    return changed


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    orders = _orders(session, subject)
    events: dict[int, list[WorkOrderEvent]] = {}
    if orders:
        for e in session.scalars(
            select(WorkOrderEvent)
            .where(WorkOrderEvent.work_order_id.in_([w.id for w in orders]))
            .order_by(WorkOrderEvent.id)
        ):
            events.setdefault(e.work_order_id, []).append(e)
    return {
        "work_orders": [
            {
                "id": wo.id,
                "reference": wo.reference,
                "summary": wo.summary,
                "description": wo.description,
                "address": wo.address,
                "lat": wo.lat,
                "lon": wo.lon,
                "status": wo.status.value,
                "window_start": wo.window_start,
                "window_end": wo.window_end,
                "arrived_at": wo.arrived_at,
                "completed_at": wo.completed_at,
                "completion_notes": wo.completion_notes,
                "parts_used": list(wo.parts_used or []),
                "acknowledged_by": wo.acknowledged_by,
                "ticket_id": wo.ticket_id,
                "visits": [
                    {
                        "at": e.at,
                        "action": e.action,
                        "from_status": e.from_status,
                        "to_status": e.to_status,
                        "source": e.source,
                        "note": e.note,
                    }
                    for e in events.get(wo.id, [])
                ],
            }
            for wo in orders
        ],
        "surveys": [
            {
                "work_order_reference": wo.reference,
                "score": wo.survey_score,
                "sent_at": wo.survey_sent_at,
                "answered_at": wo.survey_answered_at,
            }
            for wo in orders
            if wo.survey_sent_at is not None
        ],
    }


register(
    Holder(
        name="dispatch",
        covers={
            "work_orders": (
                "summary",
                "description",
                "address",
                "lat",
                "lon",
                "completion_notes",
                "acknowledged_by",
            ),
            "work_order_events": ("note", "data"),
        },
        erase=erase,
        export=export,
        parts=("work_orders", "surveys"),
        identifiers=addresses,
        # After the texts: the technician's notice of a cancelled visit is sent, not erased.
        order=200,
    )
)
exempt(
    "work_order_events",
    "from_status",
    "a work order status (unscheduled, scheduled ...), not a person",
)
exempt(
    "work_order_events",
    "to_status",
    "a work order status (unscheduled, scheduled ...), not a person",
)
exempt(
    "technicians",
    "name",
    "staff: a technician's own record, kept while they work here (not a customer's data)",
)
exempt(
    "technicians",
    "phone",
    "staff: how the technician is texted their jobs (not a customer's data)",
)
