"""Calendars, policies, per-ticket clocks and fired escalations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import JSONType, UTCDateTime, json_type, utcnow
from helpdesk.extensions import db


class CalendarModel(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "sla_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    # {"mon": [["09:00", "12:00"], ["13:30", "18:00"]], ...}; ends not after starts run overnight.
    weekly: Mapped[dict[str, Any]] = mapped_column(
        MutableDict.as_mutable(json_type()), default=dict
    )
    always_open: Mapped[bool] = mapped_column(default=False)
    holiday_country: Mapped[str | None] = mapped_column(String(4), nullable=True)
    holiday_subdivision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    exceptions: Mapped[list[CalendarException]] = relationship(
        back_populates="calendar",
        cascade="all, delete-orphan",
        order_by="CalendarException.starts_at",
        lazy="selectin",
    )


class CalendarException(db.Model):  # type: ignore[name-defined,misc]
    """A closure (the center is shut) or an exceptional opening, as an absolute interval."""

    __tablename__ = "sla_calendar_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("sla_calendars.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # closure | opening
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str] = mapped_column(String(200), default="")

    calendar: Mapped[CalendarModel] = relationship(back_populates="exceptions")


class SlaPolicy(db.Model):  # type: ignore[name-defined,misc]
    """Targets per priority, applied to the tickets its conditions match (first match wins)."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(default=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("sla_calendars.id"))
    # {"channel": ["phone"], "group_id": [3], "customer_tags": ["vip"]}: all given keys must match.
    conditions: Mapped[dict[str, Any]] = mapped_column(
        MutableDict.as_mutable(json_type()), default=dict
    )
    # {"urgent": {"first_response": 900, "next_response": 1800, "resolution": 14400}, ...}
    targets: Mapped[dict[str, Any]] = mapped_column(
        MutableDict.as_mutable(json_type()), default=dict
    )
    pause_statuses: Mapped[list[str]] = mapped_column(
        MutableList.as_mutable(json_type()), default=lambda: ["pending", "on_hold"]
    )
    at_risk_ratio: Mapped[float] = mapped_column(default=0.8)
    # [{"on": "at_risk"|"breached", "metrics": [...]?, "actions": [{"type": ...}, ...]}]
    escalations: Mapped[list[dict[str, Any]]] = mapped_column(
        MutableList.as_mutable(json_type()), default=list
    )

    calendar: Mapped[CalendarModel] = relationship(lazy="joined")


class SlaClock(db.Model):  # type: ignore[name-defined,misc]
    """One target of one ticket: elapsed business time, state, and when to look at it next.

    `next_check_at` is the only thing the breach scan reads: the instant the clock will become at
    risk or breached if nothing changes, and NULL once nothing more can happen (met, paused,
    already breached). Its index makes the scan's cost follow the number of clocks falling due.
    """

    __tablename__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "metric", "cycle"),
        Index("ix_sla_clocks_next_check_at", "next_check_at"),
        Index("ix_sla_clocks_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL"), nullable=True
    )
    metric: Mapped[str] = mapped_column(String(20))  # first_response | next_response | resolution
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    target_seconds: Mapped[int] = mapped_column(Integer)
    at_risk_ratio: Mapped[float] = mapped_column(default=0.8)
    elapsed_seconds: Mapped[float] = mapped_column(default=0.0)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # running | paused | met | breached | cancelled; at_risk is `running` past at_risk_at.
    state: Mapped[str] = mapped_column(String(12), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    at_risk_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    at_risk_notified: Mapped[bool] = mapped_column(default=False)
    breach_notified: Mapped[bool] = mapped_column(default=False)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str] = mapped_column(String(300), default="")


class SlaEscalation(db.Model):  # type: ignore[name-defined,misc]
    """An escalation that fired; the unique key makes firing it twice impossible."""

    __tablename__ = "sla_escalations"
    __table_args__ = (UniqueConstraint("clock_id", "trigger", "rule_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clocks.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(10))  # at_risk | breached
    rule_index: Mapped[int] = mapped_column(Integer, default=0)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
