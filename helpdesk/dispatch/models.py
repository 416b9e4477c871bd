"""Technicians, work orders (visits) and the history of each work order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Enum, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import UTCDateTime, json_type, utcnow
from helpdesk.dispatch.workflow import WorkOrderStatus, reference_for
from helpdesk.extensions import db


class Technician(db.Model):  # type: ignore[name-defined,misc]
    """Someone sent on site. Not a console user: technicians work from their phone, by SMS and
    the signed link of each job, so what identifies them is their E.164 number."""

    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    language: Mapped[str] = mapped_column(String(8), default="fr")
    skills: Mapped[list[str]] = mapped_column(MutableList.as_mutable(json_type()), default=list)
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    # The shift calendar (an SLA business calendar); none means the default working week.
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_calendars.id", ondelete="SET NULL"), nullable=True
    )
    max_jobs_per_day: Mapped[int] = mapped_column(Integer, default=6)
    # Live: available | en_route | on_site (off shift is computed from the calendar).
    status: Mapped[str] = mapped_column(String(12), default="available")
    last_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _status_enum() -> Enum:
    return Enum(
        WorkOrderStatus,
        native_enum=False,
        length=12,
        values_callable=lambda e: [m.value for m in e],
    )


class WorkOrder(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_status_window", "status", "window_start"),
        Index("ix_work_orders_technician_day", "technician_id", "day"),
        Index("ix_work_orders_customer_id", "customer_id", "id"),
        Index("ix_work_orders_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    summary: Mapped[str] = mapped_column(String(250))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    required_skills: Mapped[list[str]] = mapped_column(
        MutableList.as_mutable(json_type()), default=list
    )
    duration_min: Mapped[int] = mapped_column(Integer, default=60)
    # The arrival window promised to the customer.
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[str] = mapped_column(String(10))  # the window's local date, YYYY-MM-DD
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    # The on-site deadline from the ticket's SLA resolution target, when one applies.
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[WorkOrderStatus] = mapped_column(
        _status_enum(), default=WorkOrderStatus.UNSCHEDULED
    )
    technician_id: Mapped[int | None] = mapped_column(
        ForeignKey("technicians.id", ondelete="SET NULL"), nullable=True
    )
    route_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    eta_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    late_s: Mapped[int] = mapped_column(Integer, default=0)
    en_route_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completion_notes: Mapped[str] = mapped_column(Text, default="")
    parts_used: Mapped[list[str]] = mapped_column(MutableList.as_mutable(json_type()), default=list)
    acknowledged_by: Mapped[str] = mapped_column(String(200), default="")
    survey_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    survey_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    survey_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    technician: Mapped[Technician | None] = relationship(lazy="joined")

    @property
    def reference(self) -> str:
        return reference_for(self.id)


class WorkOrderEvent(db.Model):  # type: ignore[name-defined,misc]
    """One step of a work order's history: who moved it, from what to what, by which means."""

    __tablename__ = "work_order_events"
    __table_args__ = (Index("ix_work_order_events_order_id", "work_order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(20))  # created | assigned | status | survey ...
    from_status: Mapped[str] = mapped_column(String(12), default="")
    to_status: Mapped[str] = mapped_column(String(12), default="")
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    technician_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(
        String(10), default="console"
    )  # console|api|sms|mobile|auto
    note: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
